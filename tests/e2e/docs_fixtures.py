"""DOCX templates and hostile files built in the test, so nothing binary is committed."""

from __future__ import annotations

import io
import zipfile

import docx


def template(*lines: str, table_loop: bool = False) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    if table_loop:
        table = document.add_table(rows=3, cols=2)
        table.cell(0, 0).text = "{%tr for item in items %}"
        table.cell(1, 0).text = "{{ item.name }}"
        table.cell(1, 1).text = "{{ item.qty }}"
        table.cell(2, 0).text = "{%tr endfor %}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A 'docx' whose document.xml inflates to 200 MB from ~200 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            chunk = b"0" * (1024 * 1024)
            for _ in range(200):
                entry.write(chunk)
    return out.getvalue()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)
