"""A PDF of merged rows (libs/docxfast/merge.py) split back into one PDF per row, at the named
destinations the export made of each row's start bookmark. Page counts are never guessed: a
row's pages are those from its destination's page up to the next row's."""

from __future__ import annotations

import io
from itertools import pairwise
from typing import Any

import pypdf

from libs.docxfast.merge import ROW_MARK_PREFIX, row_mark


class SplitFailed(Exception):
    """The PDF does not mark every row's first page in order: its rows are converted one by
    one instead."""


def row_starts(reader: pypdf.PdfReader, rows: int) -> list[int]:
    """The index of each row's first page."""
    pages: dict[str, int] = {}
    for name, destination in reader.named_destinations.items():
        name = str(name).lstrip("/")
        if name.startswith(ROW_MARK_PREFIX):
            page = reader.get_destination_page_number(destination)
            if page is not None:
                pages[name] = page
    starts = []
    for index in range(rows):
        start = pages.get(row_mark(index))
        if start is None:
            raise SplitFailed(f"row {index} has no destination in the PDF")
        starts.append(start)
    if starts[0] != 0 or any(b <= a for a, b in pairwise(starts)):
        raise SplitFailed(f"row destinations are not in page order: {starts[:10]}")
    if starts[-1] >= len(reader.pages):
        raise SplitFailed("the last row starts past the last page")
    return starts


def split_rows(pdf: bytes, rows: int) -> list[bytes]:
    """One PDF per row, each with the merged document's metadata and the outline entries (the
    export's headings) of its own pages, the way the row converted alone has them."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    starts = row_starts(reader, rows)
    ends = [*starts[1:], len(reader.pages)]
    metadata = dict(reader.metadata or {})
    outline = _outline(reader, reader.outline)
    out = []
    for start, end in zip(starts, ends, strict=True):
        writer = pypdf.PdfWriter()
        for index in range(start, end):
            writer.add_page(reader.pages[index])
        _add_outline(writer, outline, start, end, None)
        if metadata:
            writer.add_metadata(metadata)
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


_Entry = tuple[str, int, list["_Entry"]]  # title, page index, children


def _outline(reader: pypdf.PdfReader, items: list[Any]) -> list[_Entry]:
    """pypdf's nested outline (an entry followed by a list of its children) as a tree."""
    entries: list[_Entry] = []
    for item in items:
        if isinstance(item, list):
            if entries:
                entries[-1][2].extend(_outline(reader, item))
            continue
        page = reader.get_destination_page_number(item)
        entries.append((str(item.title), -1 if page is None else page, []))
    return entries


def _add_outline(writer: pypdf.PdfWriter, entries: list[_Entry], start: int, end: int,
                 parent: Any) -> None:
    for title, page, children in entries:
        if start <= page < end:
            added = writer.add_outline_item(title=title, page_number=page - start, parent=parent)
            _add_outline(writer, children, start, end, added)
        else:
            _add_outline(writer, children, start, end, parent)
