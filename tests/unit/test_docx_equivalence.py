"""The part-level renderer against docxtpl: for every corpus template and many rows, every
part of the package equal after XML canonicalisation; every produced file opens in
python-docx; the same errors; templates it cannot prove fall back to docxtpl."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docxtpl import DocxTemplate

from libs.docxfast.choice import DOCXTPL, PARTS, choose_renderer, different_parts
from libs.docxfast.errors import TemplateRejected
from libs.docxfast.parts import compile_template, render_row
from libs.templating import template_environment
from services.docrender.render.docx import render_docx, render_rows
from tests.unit.docx_corpus import CORPUS, rows

ROWS_PER_TEMPLATE = 20


def _docxtpl(source: bytes, row: dict[str, object]) -> bytes:
    """docxtpl as the fallback runs it (same sandboxed environment, autoescaped)."""
    document = DocxTemplate(io.BytesIO(source))
    document.render(row, jinja_env=template_environment(), autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_part_level_output_equals_docxtpl(name: str) -> None:
    source = CORPUS[name]()
    assert choose_renderer(source).renderer == PARTS, choose_renderer(source)
    compiled = compile_template(source, template_environment())
    assert "word/document.xml" in compiled.rendered_parts
    for index, row in enumerate(rows(ROWS_PER_TEMPLATE)):
        fast = render_row(compiled, row)
        assert zipfile.ZipFile(io.BytesIO(fast)).testzip() is None
        assert different_parts(fast, _docxtpl(source, row)) == [], (name, index, row)
        docx.Document(io.BytesIO(fast))  # opens in python-docx


def test_headers_and_footers_are_rendered_parts() -> None:
    compiled = compile_template(CORPUS["headers_footers"](), template_environment())
    assert {"word/header1.xml", "word/footer1.xml"} <= set(compiled.rendered_parts) or any(
        name.startswith("word/header") for name in compiled.rendered_parts)
    document = docx.Document(io.BytesIO(render_row(compiled, rows(1)[0])))
    assert document.sections[0].header.paragraphs[0].text == "页眉 张三 & Co."


def test_unchanged_entries_are_copied_compressed_as_they_were() -> None:
    source = CORPUS["fields"]()
    fast = render_row(compile_template(source, template_environment()), rows(1)[0])
    before = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(source)).infolist()}
    after = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(fast)).infolist()}
    assert after.keys() == before.keys()
    for name in ("word/styles.xml", "word/theme/theme1.xml", "docProps/thumbnail.jpeg"):
        assert (after[name].CRC, after[name].compress_size) == (
            before[name].CRC, before[name].compress_size)


def test_xml_special_data_stays_text() -> None:
    source = CORPUS["xml_literals"]()
    row = {"name": "<w:p>&amp;", "note": "</w:t>", "age": 1, "email": "\"'"}
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(
        render_row(compile_template(source, template_environment()), row))).paragraphs)
    assert "<w:p>&amp;" in text and "</w:t> < 1 > & \"'" in text


@pytest.mark.parametrize(("line", "message"), [
    ("{{ ''.__class__.__mro__ }}", "template blocked by the sandbox"),
    ("{{ name.missing.deeper }}", "template error"),
])
def test_same_errors_as_docxtpl(line: str, message: str) -> None:
    document = docx.Document()
    document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    source = out.getvalue()
    with pytest.raises(TemplateRejected, match=message) as fast:
        render_row(compile_template(source, template_environment()), {"name": "x"})
    with pytest.raises(TemplateRejected, match=message) as slow:
        render_docx(source, {"name": "x"})
    assert str(fast.value) == str(slow.value)


def test_syntax_errors_are_rejected_per_row_on_both_paths() -> None:
    document = docx.Document()
    document.add_paragraph("{% if %}")
    out = io.BytesIO()
    document.save(out)
    for renderer in (PARTS, DOCXTPL):
        [result] = render_rows(f"syntax-{renderer}", out.getvalue(), renderer, [{}])
        assert result.data is None and result.rejected is not None
        assert result.rejected.startswith("template error")


def _with_title(title: str) -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    document.add_paragraph("Hello {{ name }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_rich_text() -> bytes:
    document = docx.Document()
    document.add_paragraph("{{r styled }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("source", "reason"), [
    (_with_title("Report for {{ name }}"), "core property 'title'"),
    (_with_rich_text(), "RichText"),
])
def test_templates_it_cannot_prove_fall_back_to_docxtpl(source: bytes, reason: str) -> None:
    choice = choose_renderer(source)
    assert choice.renderer == DOCXTPL and choice.reason and reason in choice.reason
    [result] = render_rows("fallback-" + reason, source, choice.renderer, [
        {"name": "张三", "styled": "plain"}])
    assert result.data is not None and result.error is None and result.rejected is None
    assert different_parts(result.data, _docxtpl(source, {"name": "张三", "styled": "plain"})) == []
    if "title" in reason:  # the fallback renders what the part-level renderer would not
        assert docx.Document(io.BytesIO(result.data)).core_properties.title == "Report for 张三"


def test_render_rows_reports_each_row() -> None:
    source = CORPUS["fields"]()
    results = render_rows("fields", source, PARTS, [
        {"name": "a", "age": 50, "email": "e"}, {"name": "b", "age": "x", "email": "e"}])
    assert results[0].data is not None and results[0].crc
    assert results[1].data is None and results[1].rejected and "TypeError" in results[1].rejected


def test_an_expression_that_raises_is_the_templates_fault_on_both_paths() -> None:
    """`{{ 1 / 0 }}` fails the same way on every attempt: rejected (permanent), not retried."""
    document = docx.Document()
    document.add_paragraph("{{ amount / 0 }}")
    out = io.BytesIO()
    document.save(out)
    for renderer in (PARTS, DOCXTPL):
        [result] = render_rows(f"divide-{renderer}", out.getvalue(), renderer, [{"amount": 1}])
        assert result.error is None and result.rejected == (
            "template error: ZeroDivisionError: division by zero")
