"""A PDF of merged rows (libs/docxfast/merge.py) split back into one PDF per row, at the named
destinations the export made of each row's start bookmark. Page counts are never guessed: a
row's pages are those from its destination's page up to the next row's."""

from __future__ import annotations

import io
from itertools import pairwise

import pypdf
from pypdf.generic import NameObject

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
    """One PDF per row, each with the merged document's metadata and its own pages' outline
    (the export's headings), the way the row converted alone has them."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    starts = row_starts(reader, rows)
    ends = [*starts[1:], len(reader.pages)]
    metadata = dict(reader.metadata or {})
    out = []
    for start, end in zip(starts, ends, strict=True):
        writer = pypdf.PdfWriter()
        writer.append(reader, pages=(start, end), import_outline=True)
        for key in ("/Dests", "/Names"):  # the row marks: not part of the row's document
            writer._root_object.pop(NameObject(key), None)
        if metadata:
            writer.add_metadata(metadata)
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out
