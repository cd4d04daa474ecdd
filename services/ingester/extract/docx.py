"""DOCX (a zip of XML parts) to text, paragraphs and tables in document order.

Before python-docx sees the file, the zip's directory is checked against the limits (a zip bomb
is refused without decompressing a byte) and every XML part is scanned for a DTD: OOXML never
needs one, and one is how entity expansion and external-entity (XXE) attacks arrive."""

import io
import re
import zipfile
from collections.abc import Iterator

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.styles import BabelFish
from docx.table import Table
from docx.text.paragraph import Paragraph

from libs.archives import ArchiveLimits, TooManyEntries, UnsafePath, ZipBomb, check_entries
from services.ingester.extract.base import ExtractionError, Limits, megabytes

_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_SCAN_BLOCK = 1024 * 1024
_HEADING_STYLE = re.compile(r"Heading (\d)")


def check_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    """libs.archives' checks, reported in the seed's language."""
    try:
        check_entries(archive, what="DOCX", limits=ArchiveLimits(
            max_entries=limits.max_zip_entries, max_total_bytes=limits.max_unzipped_bytes,
            max_ratio=limits.max_zip_ratio))
    except TooManyEntries as exc:
        raise ExtractionError(f"压缩包条目过多 ({exc.count:,}，上限 {exc.limit:,})") from exc
    except UnsafePath as exc:
        raise ExtractionError(f"压缩包含有不安全的路径: {exc.name}") from exc
    except ZipBomb as exc:
        if exc.member is not None:
            raise ExtractionError(f"疑似压缩炸弹: {exc.member} 压缩比 {exc.ratio:,.0f}:1，"
                                  f"上限 {exc.limit:,.0f}:1") from exc
        raise ExtractionError(f"疑似压缩炸弹: 解压后 {megabytes(exc.total)}，"
                              f"上限 {megabytes(int(exc.limit))}") from exc


def _refuse_dtds(archive: zipfile.ZipFile) -> None:
    for entry in archive.infolist():
        if not entry.filename.endswith((".xml", ".rels")):
            continue
        tail = b""
        # zipfile never reads past an entry's declared size, so this is bounded by check_zip.
        with archive.open(entry) as part:
            while block := part.read(_SCAN_BLOCK):
                window = (tail + block).upper()
                if any(marker in window for marker in _DTD_MARKERS):
                    raise ExtractionError(
                        f"{entry.filename} 含有 DTD/实体声明（可能的 XXE 攻击），已拒绝")
                tail = block[-16:]


class _HeadingLevels:
    """Each paragraph style's heading level (1-6 for Title or Heading N, Word's built-in names,
    else 0), read once per document from the styles part's XML. python-docx resolves a
    paragraph's style by scanning the whole styles part through its object layer each time
    (every unstyled paragraph looks up the default style), which was most of the time spent
    extracting a small DOCX; walking its ~160 styles through that layer once still took 5 ms."""

    def __init__(self, document: DocxDocument) -> None:
        self._levels: dict[str, int] = {}
        self._default = 0
        for style in document.styles.element.iterchildren(qn("w:style")):
            if style.get(qn("w:type"), "paragraph") != "paragraph":  # paragraph if absent
                continue
            name = style.find(qn("w:name"))
            level = _level(BabelFish.internal2ui(name.get(qn("w:val"))) if name is not None
                           else None)
            style_id = style.get(qn("w:styleId"))
            if style_id:
                self._levels[style_id] = level
            if style.get(qn("w:default")) in ("1", "true", "on"):
                self._default = level  # the last default wins, as in python-docx

    def of(self, paragraph: Paragraph) -> int:
        """As python-docx's `paragraph.style`: no style id, or one the styles part does not
        define as a paragraph style, means the default paragraph style."""
        style_id = paragraph._p.style
        return self._default if style_id is None else self._levels.get(style_id, self._default)


def _level(name: str | None) -> int:
    if name == "Title":
        return 1
    match = _HEADING_STYLE.fullmatch(name or "")
    return min(int(match.group(1)), 6) if match else 0


def _cell_text(table: Table, levels: _HeadingLevels) -> Iterator[str]:
    for row in table.rows:
        seen: list[int] = []
        cells = []
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.append(id(cell._tc))
            cells.append(" ".join(_blocks(cell.iter_inner_content(), levels)).strip())
        line = " | ".join(cell for cell in cells if cell)
        if line:
            yield line


def _blocks(content: Iterator[Paragraph | Table], levels: _HeadingLevels) -> Iterator[str]:
    for block in content:
        if isinstance(block, Paragraph):
            text = block.text
            if text.strip():
                level = levels.of(block)
                # A heading becomes a `# Title` line for the chunker (extract/base.py).
                yield f"{'#' * level} {text.strip()}" if level else text
        else:
            yield from _cell_text(block, levels)


def extract_docx(data: bytes, limits: Limits) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ExtractionError("文件损坏（不是有效的 DOCX/ZIP 文件）") from None
    with archive:
        check_zip(archive, limits)
        _refuse_dtds(archive)
    document = Document(io.BytesIO(data))
    return "\n".join(_blocks(document.iter_inner_content(), _HeadingLevels(document)))
