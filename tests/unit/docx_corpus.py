"""The equivalence corpus: DOCX templates built here with python-docx (nothing binary is
committed), each exercising docxtpl features, and rows that stress the data side (CJK,
XML-special characters, empty values, newlines and tabs)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import docx
from docx.document import Document
from docx.shared import Pt
from PIL import Image


def _save(document: Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _split_runs(paragraph: Any, *pieces: str) -> None:
    """Text split across runs with different formatting, as Word leaves it after edits."""
    for index, piece in enumerate(pieces):
        run = paragraph.add_run(piece)
        run.bold = index % 2 == 1
        if index % 3 == 2:
            run.font.size = Pt(13)


def fields() -> bytes:
    d = docx.Document()
    d.add_heading("合同 {{ name }}", 1)
    d.add_paragraph("客户：{{ name }}，年龄 {{ age }}，邮箱 {{ email }}")
    d.add_paragraph("{% if age > 40 %}资深客户{% else %}普通客户{% endif %}")
    d.add_paragraph("条款 " * 50)
    return _save(d)


def paragraph_if() -> bytes:
    d = docx.Document()
    d.add_paragraph("Before")
    d.add_paragraph("{%p if vip %}")
    d.add_paragraph("VIP section for {{ name }}")
    d.add_paragraph("{%p else %}")
    d.add_paragraph("Standard section")
    d.add_paragraph("{%p endif %}")
    d.add_paragraph("After")
    return _save(d)


def paragraph_loop() -> bytes:
    d = docx.Document()
    d.add_paragraph("Items of {{ name }}:")
    d.add_paragraph("{%p for item in items %}")
    d.add_paragraph("{{ loop.index }}. {{ item.name }} x {{ item.qty }}", style="List Bullet")
    d.add_paragraph("{%p endfor %}")
    return _save(d)


def table_rows() -> bytes:
    d = docx.Document()
    d.add_paragraph("Order {{ name }}")
    table = d.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Qty"
    table.cell(1, 0).text = "{%tr for item in items %}"
    table.cell(2, 0).text, table.cell(2, 1).text = "{{ item.name }}", "{{ item.qty }}"
    table.cell(3, 0).text = "{%tr endfor %}"
    return _save(d)


def table_columns() -> bytes:
    d = docx.Document()
    table = d.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    table.cell(0, 0).text = "{%tc for item in items %}"
    table.cell(0, 1).text = "{{ item.name }}"
    table.cell(0, 2).text = "{%tc endfor %}"
    table.cell(1, 0).text = "{%tc for item in items %}"
    table.cell(1, 1).text = "{{ item.qty }}"
    table.cell(1, 2).text = "{%tc endfor %}"
    return _save(d)


def filters() -> bytes:
    d = docx.Document()
    d.add_paragraph("{{ name | upper }} / {{ name | lower }} / {{ name | length }}")
    d.add_paragraph("{{ note | default('无备注') }} / {{ note | e }}")
    d.add_paragraph("{{ items | map(attribute='name') | join(', ') }}")
    d.add_paragraph("{{ '%.2f' | format(age * 1.5) }} / {{ (age / 7) | round(2) }}")
    d.add_paragraph("{{ email | replace('@', ' at ') | truncate(12) }}")
    return _save(d)


def headers_footers() -> bytes:
    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "页眉 {{ name }} & Co."
    section.footer.paragraphs[0].text = "Footer: {{ email }} — page"
    d.add_paragraph("Body {{ name }}")
    return _save(d)


def sections_first_page() -> bytes:
    d = docx.Document()
    first = d.sections[0]
    first.different_first_page_header_footer = True
    first.first_page_header.paragraphs[0].text = "First page of {{ name }}"
    first.header.paragraphs[0].text = "Other pages {{ age }}"
    d.add_paragraph("Section one {{ name }}")
    second = d.add_section()
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "Section two header {{ email }}"
    d.add_paragraph("Section two {{ age }}")
    return _save(d)


def split_runs() -> bytes:
    d = docx.Document()
    _split_runs(d.add_paragraph(), "Dear {", "{ na", "me }", "}, you are {{ ", "age", " }}.")
    _split_runs(d.add_paragraph(), "{% i", "f vip %}", "VIP", "{% en", "dif %}")
    return _save(d)


def cjk() -> bytes:
    d = docx.Document()
    d.add_heading("采购订单 {{ name }}", 1)
    d.add_paragraph("尊敬的{{ name }}先生/女士：您好！您的邮箱为「{{ email }}」。")
    d.add_paragraph("金额：￥{{ age * 100 }}元整。备注：{{ note }}")
    return _save(d)


def xml_literals() -> bytes:
    d = docx.Document()
    d.add_paragraph('Literal <tag> & "quotes" \'apostrophes\' then {{ name }}')
    d.add_paragraph("{{ note }} < {{ age }} > & {{ email }}")
    return _save(d)


def empty_values() -> bytes:
    d = docx.Document()
    d.add_paragraph("[{{ note }}] [{{ missing }}] [{{ none_value }}]")
    d.add_paragraph("{% if note %}has note{% else %}no note{% endif %}")
    d.add_paragraph("{{ items | length }} items")
    return _save(d)


def nested_loops() -> bytes:
    d = docx.Document()
    d.add_paragraph("{% for item in items %}{{ item.name }}"
                    "{% for i in range(item.qty % 3) %}*{% endfor %}"
                    "{% if not loop.last %}; {% endif %}{% endfor %}")
    table = d.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "{%tr for item in items %}"
    table.cell(1, 0).text = "{{ loop.index }}"
    table.cell(1, 1).text = "{% if item.qty > 5 %}many{% else %}few{% endif %}"
    table.cell(1, 2).text = "{{ item.name | upper }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    return _save(d)


def whitespace_control() -> bytes:
    d = docx.Document()
    d.add_paragraph("Start {# a comment #}{{ name }}")
    d.add_paragraph("{%- if vip %}")
    d.add_paragraph("merged VIP")
    d.add_paragraph("{% endif -%}")
    d.add_paragraph("End")
    return _save(d)


def listing() -> bytes:
    d = docx.Document()
    d.add_paragraph("Address: {{ note }}")
    d.add_paragraph("Tabbed: {{ email }}")
    return _save(d)


def cell_features() -> bytes:
    d = docx.Document()
    table = d.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    table.cell(0, 0).text = "{% cellbg color %}{{ name }}"
    table.cell(0, 1).text = "{% colspan span %}{{ age }}"
    table.cell(0, 2).text = "end"
    return _save(d)


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    out.seek(0)
    return out


def pictures_in_loop() -> bytes:
    d = docx.Document()
    d.add_paragraph("{%p for item in items %}")
    d.add_paragraph().add_run().add_picture(_png())
    d.add_paragraph("{{ item.name }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph().add_run().add_picture(_png())
    return _save(d)


def core_properties() -> bytes:
    d = docx.Document()
    d.core_properties.title = "Static title"
    d.core_properties.author = "Conveyor"
    d.add_paragraph("Body {{ name }}")
    return _save(d)


CORPUS: dict[str, Callable[[], bytes]] = {f.__name__: f for f in (
    fields, paragraph_if, paragraph_loop, table_rows, table_columns, filters, headers_footers,
    sections_first_page, split_runs, cjk, xml_literals, empty_values, nested_loops,
    whitespace_control, listing, cell_features, pictures_in_loop, core_properties)}

_NAMES = ["张三", "O'Brien & <Sons>", "", "李四\"王五\"", "Ünïcødé 😀", "a]]>b", "x" * 300,
          "{{ not_jinja }}", "中文名字很长" * 10]
_NOTES = ["", "line one\nline two", "tab\there", "<b>not bold</b> & amp;", "备注：无",
          "para\aafter bell", "page\fbreak"]


def rows(count: int) -> list[dict[str, Any]]:
    result = []
    for i in range(count):
        items = [{"name": f"物品{j}<{i}>", "qty": (i * 7 + j) % 11} for j in range(i % 5)]
        result.append({
            "name": _NAMES[i % len(_NAMES)], "age": 18 + (i * 13) % 60,
            "email": f"user{i}@例子.cn\t(tab)" if i % 4 == 3 else f"user{i}@example.com",
            "vip": i % 3 == 0, "note": _NOTES[i % len(_NOTES)], "items": items,
            "none_value": None, "color": ["FF0000", "00FF00", "0000FF"][i % 3],
            "span": 1 + i % 2,
        })
    return result
