"""Rows merged into one DOCX (libs/docxfast/merge.py) and the PDF split back at each row's
destination (libs/office/split.py), without LibreOffice: the structure each relies on."""

from __future__ import annotations

import io
import zipfile

import docx
import pypdf
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from libs.docxfast.merge import NotMergeable, estimate_pages, merge_rows, row_mark
from libs.docxfast.parts import compile_template, render_row
from libs.office.split import SplitFailed, split_rows
from libs.templating import template_environment
from tests.unit.docx_corpus import CORPUS, _save, rows


def _rendered(source: bytes, count: int) -> list[bytes]:
    compiled = compile_template(source, template_environment())
    return [render_row(compiled, row) for row in rows(count)]


def test_each_row_is_a_section_of_its_own_with_its_own_headers_and_a_mark() -> None:
    merged = merge_rows(_rendered(CORPUS["headers_footers"](), 3))
    document = docx.Document(io.BytesIO(merged))
    assert len(document.sections) == 3
    headers = [section.header.paragraphs[0].text for section in document.sections]
    assert headers == ["页眉 张三 & Co.", "页眉 O'Brien & <Sons> & Co.", "页眉  & Co."]
    body = document.element.body
    marks = [el.get(qn("w:name")) for el in body.iter(qn("w:bookmarkStart"))]
    assert marks == [row_mark(0), row_mark(1), row_mark(2)]
    for section in document.sections[1:]:
        properties = section._sectPr
        assert properties.find(qn("w:type")).get(qn("w:val")) == "nextPage"
        assert properties.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    names = zipfile.ZipFile(io.BytesIO(merged)).namelist()
    assert "word/row1-header1.xml" in names and "word/row2-footer1.xml" in names


def test_the_templates_page_numbering_is_kept() -> None:
    document = docx.Document()
    document.add_paragraph("{{ name }}")
    document.sections[0]._sectPr.append(parse_xml(
        f'<w:pgNumType {nsdecls("w")} w:fmt="lowerRoman" w:start="3"/>'))
    merged = docx.Document(io.BytesIO(merge_rows(_rendered(_save(document), 2))))
    for section in merged.sections:
        numbering = section._sectPr.find(qn("w:pgNumType"))
        assert (numbering.get(qn("w:fmt")), numbering.get(qn("w:start"))) == ("lowerRoman", "3")


def test_documents_that_cannot_be_merged_exactly_are_refused() -> None:
    with pytest.raises(NotMergeable, match="several sections"):
        merge_rows(_rendered(CORPUS["sections_first_page"](), 2))
    with pytest.raises(NotMergeable, match="starts with a table"):
        merge_rows(_rendered(CORPUS["cell_features"](), 2))


def test_page_estimates_grow_with_the_content() -> None:
    short = docx.Document()
    short.add_paragraph("short")
    long = docx.Document()
    for _ in range(200):
        long.add_paragraph("条款 " * 60)
    broken = docx.Document()
    broken.add_paragraph("a").add_run().add_break(docx.enum.text.WD_BREAK.PAGE)

    def pages(document: docx.document.Document) -> int:
        return estimate_pages(zipfile.ZipFile(io.BytesIO(_save(document))).read(
            "word/document.xml"))

    assert pages(short) == 1 and pages(broken) == 2 and pages(long) >= 10


def _marked_pdf(pages: int, marks: dict[int, int]) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(100, 100)
    for row, page in marks.items():
        writer.add_named_destination(row_mark(row), page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_is_split_at_its_rows_destinations_never_by_count() -> None:
    parts = split_rows(_marked_pdf(6, {0: 0, 1: 1, 2: 4}), 3)
    assert [len(pypdf.PdfReader(io.BytesIO(p)).pages) for p in parts] == [1, 3, 2]
    for part in parts:  # the row marks are not part of a row's document
        assert not pypdf.PdfReader(io.BytesIO(part)).named_destinations
    with pytest.raises(SplitFailed, match="row 2 has no destination"):
        split_rows(_marked_pdf(6, {0: 0, 1: 1}), 3)
    with pytest.raises(SplitFailed, match="not in page order"):
        split_rows(_marked_pdf(6, {0: 0, 1: 3, 2: 3}), 3)
