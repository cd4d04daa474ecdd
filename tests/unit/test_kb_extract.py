"""Extraction per format, and the hostile files: each fails alone with a clear message."""

import io
import time
import zipfile

import pytest

from services.ingester.extract import ExtractionError, Limits, extract_text
from services.ingester.jobs import extract_job
from tests import kb_samples as samples

LIMITS = Limits()


def test_pdf_text() -> None:
    assert "carbon dioxide" in extract_text(samples.make_pdf(samples.PHOTOSYNTHESIS), "pdf",
                                            LIMITS)


def test_docx_paragraphs_and_tables_in_order() -> None:
    data = samples.make_docx([samples.RAIL, "after the table"], [["城市", "时速"],
                                                                ["北京", "350"]])
    text = extract_text(data, "docx", LIMITS)
    assert "复兴号" in text and "城市 | 时速" in text and "北京 | 350" in text


def test_docx_headings_follow_the_styles_python_docx_resolves() -> None:
    """Title and Heading N become `#` lines, in table cells too; a paragraph whose style id the
    styles part lacks takes the default style, as python-docx's own `paragraph.style` does."""
    from docx import Document

    document = Document()
    document.add_heading("Railways", 0)  # Title
    document.add_heading("Signals", 2)
    document.add_paragraph("plain text")
    document.add_paragraph("odd style").style = document.styles["Heading 3"]
    document.paragraphs[-1]._p.pPr.style = "NoSuchStyle"
    document.add_table(rows=1, cols=1).cell(0, 0).paragraphs[0].style = \
        document.styles["Heading 1"]
    document.tables[0].cell(0, 0).paragraphs[0].add_run("in a cell")
    out = io.BytesIO()
    document.save(out)
    text = extract_text(out.getvalue(), "docx", LIMITS)
    assert text.splitlines() == ["# Railways", "## Signals", "plain text", "odd style",
                                 "# in a cell"]
    assert Document(io.BytesIO(out.getvalue())).paragraphs[3].style.name == "Normal"


def test_html_keeps_title_and_body_and_drops_scripts() -> None:
    html = (b"<html><head><title>Title here</title><style>p{}</style></head><body>"
            b"<script>alert('x')</script><p>Fish &amp; chips</p></body></html>")
    text = extract_text(html, "html", LIMITS)
    assert text == "Title here\nFish & chips"


def test_markdown_loses_its_markup_but_keeps_headings_for_the_chunker() -> None:
    md = (b"  # Title\n\nSome **bold** and [a link](http://x.y) and ![pic](a.png).\n\n"
          b"```\ncode\n```")
    text = extract_text(md, "markdown", LIMITS)
    assert "Some bold and a link and pic." in text and "```" not in text
    assert text.startswith("# Title\n")  # the one heading form (extract/base.py)


def test_markdown_keeps_tables_code_and_html_text() -> None:
    md = (b"| City | Speed |\n|---|---|\n| Beijing | 350 |\n\n~~old~~ `x < y` &copy;\n\n"
          b"<div>\nraw <i>html</i> text\n</div>\n\n    # indented code\n")
    text = extract_text(md, "markdown", LIMITS)
    assert "City | Speed" in text and "Beijing | 350" in text and "---" not in text
    assert "old x < y \u00a9" in text and "raw html text" in text and "<" not in text[20:30]
    assert "\n    # indented code" in text  # code, not a heading


MEGABYTE = 1_000_000
ADVERSARIAL_MARKDOWN = {
    "emphasis openers": b"*a " * (MEGABYTE // 3),
    "strong openers": b"**a " * (MEGABYTE // 4),
    "underscores": b"_a " * (MEGABYTE // 3),
    "nested brackets": b"[" * (MEGABYTE // 2) + b"]" * (MEGABYTE // 2),
    "unclosed links": b"[a](" * (MEGABYTE // 4),
    "unclosed images": b"![" * (MEGABYTE // 2),
    "backtick runs": b" ".join(b"`" * n for n in range(1, 1400)),
    "a backtick wall": b"`" * MEGABYTE,
    "code spans": b"`a` " * (MEGABYTE // 4),
    "unclosed tags": b"<a" * (MEGABYTE // 2),
    "unclosed comments": b"<!--\n" * (MEGABYTE // 5),
    "a long table": b"|a|b|\n|-|-|\n" + b"|x|y|\n" * (MEGABYTE // 6),
    "entities": b"&#" * (MEGABYTE // 2),
    "nested quotes and lists": b"> - " * (MEGABYTE // 4),
}


@pytest.mark.parametrize("name", ADVERSARIAL_MARKDOWN)
def test_adversarial_markdown_extracts_in_linear_time(name: str) -> None:
    """1 MB built to make a backtracking or quadratic parser stall. CPU time, not wall time:
    the machine may be busy with other work."""
    data = ADVERSARIAL_MARKDOWN[name]
    assert len(data) >= 0.98 * MEGABYTE
    started = time.process_time()
    extract_text(data, "markdown", LIMITS)
    assert time.process_time() - started < 2.0


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig", "big5"])
def test_text_encodings_are_detected(encoding: str) -> None:
    text = samples.TEA if encoding != "big5" else "中國是茶的故鄉，茶文化有數千年的歷史。" * 3
    assert extract_text(text.encode(encoding), "txt", LIMITS) == text


def test_binary_data_is_not_text() -> None:
    with pytest.raises(ExtractionError, match="TXT转换失败"):
        extract_text(bytes(range(256)) * 50, "txt", LIMITS)


def test_corrupt_pdf_fails_clearly() -> None:
    with pytest.raises(ExtractionError, match=r"^PDF转换失败: 文件损坏"):
        extract_text(samples.corrupt_pdf(), "pdf", LIMITS)


def test_not_a_pdf_at_all() -> None:
    with pytest.raises(ExtractionError, match="缺少 PDF 文件头"):
        extract_text(b"hello", "pdf", LIMITS)


def test_docx_zip_bomb_is_refused_before_decompressing() -> None:
    bomb = samples.docx_bomb(16)
    assert len(bomb) < 200_000
    started = time.perf_counter()
    with pytest.raises(ExtractionError, match="压缩炸弹"):
        extract_text(bomb, "docx", LIMITS)
    assert time.perf_counter() - started < 1.0  # nothing was inflated
    with pytest.raises(ExtractionError, match="解压后"):
        extract_text(samples.make_docx(["x" * 5000] * 50), "docx",
                     Limits(max_unzipped_bytes=100_000))


def test_docx_bomb_with_a_lying_size_header_cannot_inflate_past_it() -> None:
    liar = samples.docx_bomb_lying(16)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("word/document.xml").file_size == 1024
    with pytest.raises(ExtractionError, match="DOCX转换失败: 文件损坏"):
        extract_text(liar, "docx", LIMITS)


def test_docx_with_an_external_entity_is_refused() -> None:
    with pytest.raises(ExtractionError, match="XXE") as caught:
        extract_text(samples.docx_xxe(), "docx", LIMITS)
    assert "root:" not in str(caught.value)


def test_html_declaring_entities_is_refused() -> None:
    html = (b'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<html><body>&xxe;</body></html>")
    with pytest.raises(ExtractionError, match="XXE"):
        extract_text(html, "html", LIMITS)


def test_text_over_the_limit_is_refused() -> None:
    with pytest.raises(ExtractionError, match="文本过长"):
        extract_text(b"word " * 1000, "txt", Limits(max_text_chars=1000))


CHUNKING = (200, 30, "")


def test_a_document_with_images_is_chunked_after_ocr_not_in_the_extraction_child() -> None:
    data = samples.make_docx(["Figure 1"], images=(samples.text_image(["Hello there"]),))
    text, images, chunks = extract_job(data, "docx", LIMITS, True, CHUNKING)
    assert text == "Figure 1" and len(images) == 1 and chunks is None
