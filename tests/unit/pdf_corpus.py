"""Templates whose PDFs exercise page layout (merged conversion, libs/docxfast/merge.py):
headers, footers with page numbers, tables breaking across pages, images, rows of 1 to 5
pages; and templates that must stay one conversion per row (NUMPAGES, numbered lists, a
different first page). Built here with python-docx: nothing binary is committed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm

from tests.unit.docx_corpus import _png, _save

_PARAGRAPH = ("本合同由甲方{{ name }}与乙方签订，双方经友好协商，就以下事项达成一致意见。"
              "This agreement is made between the parties named above. ")


def _field(paragraph: Any, code: str) -> None:
    paragraph._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr="{code}"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))


def page_numbers() -> bytes:
    """Header with data, footer "第 PAGE 页", paragraphs enough for 1-5 pages per row."""
    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "{{ name }} 合同 — 编号 {{ age }}"
    footer = section.footer.paragraphs[0]
    footer.add_run("第 ")
    _field(footer, "PAGE")
    footer.add_run(" 页")
    d.add_heading("合同 {{ name }}", 1)
    d.add_paragraph("{%p for i in range(paragraphs) %}")
    d.add_paragraph(_PARAGRAPH * 6)
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("签字：{{ name }}")
    return _save(d)


def long_table() -> bytes:
    """A table of `lines` rows (header row repeated on each page) that breaks across pages."""
    d = docx.Document()
    d.add_paragraph("订单 {{ name }}")
    table = d.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    for cell, text in zip(header.cells, ("序号", "物品", "数量"), strict=True):
        cell.text = text
    table.cell(1, 0).text = "{%tr for item in lines %}"
    table.cell(2, 0).text = "{{ loop.index }}"
    table.cell(2, 1).text = "{{ item.name }}"
    table.cell(2, 2).text = "{{ item.qty }}"
    table.cell(3, 0).text = "{%tr endfor %}"
    d.add_paragraph("合计 {{ lines | length }} 项")
    return _save(d)


def images_and_breaks() -> bytes:
    """An image in the header and in the body, and explicit page breaks between sections of
    the row."""
    d = docx.Document()
    d.sections[0].header.paragraphs[0].add_run().add_picture(_png(), width=Cm(1))
    d.add_paragraph("{{ name }}")
    d.add_paragraph().add_run().add_picture(_png(), width=Cm(4))
    d.add_paragraph("{%p for i in range(breaks) %}")
    paragraph = d.add_paragraph("第 {{ i + 1 }} 部分 ")
    paragraph.add_run().add_break(docx.enum.text.WD_BREAK.PAGE)
    paragraph.add_run("{{ email }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("结束")
    return _save(d)


PDF_CORPUS: dict[str, Callable[[], bytes]] = {f.__name__: f for f in (
    page_numbers, long_table, images_and_breaks)}


def total_pages() -> bytes:
    d = docx.Document()
    footer = d.sections[0].footer.paragraphs[0]
    _field(footer, "PAGE")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES")
    d.add_paragraph("{{ name }}")
    return _save(d)


def numbered_list() -> bytes:
    d = docx.Document()
    d.add_paragraph("{{ name }}")
    d.add_paragraph("first", style="List Number")
    d.add_paragraph("second", style="List Number")
    return _save(d)


def first_page_header() -> bytes:
    d = docx.Document()
    d.sections[0].different_first_page_header_footer = True
    d.sections[0].first_page_header.paragraphs[0].text = "封面 {{ name }}"
    d.add_paragraph("{{ name }}")
    return _save(d)


def starts_with_table() -> bytes:
    d = docx.Document()
    d.add_table(rows=1, cols=1).cell(0, 0).text = "{{ name }}"
    return _save(d)


# Template -> the reason it must stay one conversion per row (a part of it).
SINGLE_CORPUS: dict[str, tuple[Callable[[], bytes], str]] = {
    "total_pages": (total_pages, "field NUMPAGES"),
    "numbered_list": (numbered_list, "numbered lists"),
    "first_page_header": (first_page_header, "first-page header"),
    "starts_with_table": (starts_with_table, "starts with a table"),
}


def paged_rows(count: int) -> list[dict[str, Any]]:
    """Rows of 1 to 5 pages (paragraphs, table lines and page breaks grow with the row)."""
    result = []
    for i in range(count):
        pages = 1 + i % 5
        result.append({
            "name": ["张三", "O'Brien & <Sons>", "李四", "Ünïcødé", "x" * 40][i % 5],
            "age": 20 + i, "email": f"user{i}@example.com", "paragraphs": 3 * pages - 2,
            "breaks": pages - 1,
            "lines": [{"name": f"物品{j}", "qty": j % 7} for j in range(1 + 45 * (pages - 1))],
        })
    return copy.deepcopy(result)
