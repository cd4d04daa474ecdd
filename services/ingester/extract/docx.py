"""DOCX (a zip of XML parts) to text, paragraphs and tables in document order.

Before python-docx sees the file, the zip's directory is checked against the limits (a zip bomb
is refused without decompressing a byte) and every XML part is scanned for a DTD: OOXML never
needs one, and one is how entity expansion and external-entity (XXE) attacks arrive."""

import io
import re
import zipfile
from collections.abc import Iterator

from docx import Document
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


def _cell_text(table: Table) -> Iterator[str]:
    for row in table.rows:
        seen: list[int] = []
        cells = []
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.append(id(cell._tc))
            cells.append(" ".join(_blocks(cell.iter_inner_content())).strip())
        line = " | ".join(cell for cell in cells if cell)
        if line:
            yield line


def _heading_level(paragraph: Paragraph) -> int:
    """1-6 for a paragraph styled Title or Heading N (Word's built-in names), else 0."""
    try:
        name = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError):  # a style id the styles part does not define
        return 0
    if name == "Title":
        return 1
    match = _HEADING_STYLE.fullmatch(name or "")
    return min(int(match.group(1)), 6) if match else 0


def _blocks(content: Iterator[Paragraph | Table]) -> Iterator[str]:
    for block in content:
        if isinstance(block, Paragraph):
            if block.text.strip():
                level = _heading_level(block)
                # A heading becomes a `# Title` line for the chunker (extract/base.py).
                yield f"{'#' * level} {block.text.strip()}" if level else block.text
        else:
            yield from _cell_text(block)


def extract_docx(data: bytes, limits: Limits) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ExtractionError("文件损坏（不是有效的 DOCX/ZIP 文件）") from None
    with archive:
        check_zip(archive, limits)
        _refuse_dtds(archive)
    document = Document(io.BytesIO(data))
    return "\n".join(_blocks(document.iter_inner_content()))
