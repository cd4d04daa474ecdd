"""Merged PDF conversion against one conversion per row, checked as a machine would: for every
template of the equivalence corpus judged merge-safe, and the PDF corpus (headers, footers
with page numbers, tables across pages, images, rows of 1 to 5 pages), rows are converted both
ways and every page is rendered to an image (pdfium, 72 dpi) and compared pixel by pixel, and
each row's text is compared.

Tolerance: a page may differ in at most `MAX_DIFFERENT_PIXELS` pixels. LibreOffice positions
a glyph from the fonts laid out in the same document, and a merged document holds other rows'
text: a header line has been seen to place one glyph a fraction of a point apart (a dozen
anti-aliased pixels). A missing line, a moved paragraph or another page break differs in
thousands. Text is compared with runs of whitespace collapsed: whether a trailing space is
exported depends on what follows it in the document, and it draws nothing.

Also: templates that need it fall back to one conversion per row, and a row whose conversion
fails inside a group fails alone (services/docrender/merged.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from PIL import ImageChops

from libs.docxfast.choice import PARTS, choose_renderer
from libs.docxfast.merge import merge_rows
from libs.docxfast.merge_safety import MERGED, SINGLE, choose_pdf_mode
from libs.docxfast.parts import compile_template, render_row
from libs.errors import Permanent
from libs.office.pool import OFFICE_LIMITS, OfficePool
from libs.office.split import split_rows
from libs.templating import template_environment
from services.docrender.merged import MergedPdf
from tests.unit.docx_corpus import CORPUS, rows
from tests.unit.pdf_corpus import PDF_CORPUS, SINGLE_CORPUS, paged_rows

MAX_DIFFERENT_PIXELS = 64
CORPUS_ROWS = 4
PAGED_ROWS = 5
# Equivalence-corpus templates that must not be merged (and why, in part).
EXPECTED_SINGLE = {"sections_first_page": "several sections",
                   "cell_features": "starts with a table",
                   "table_columns": "starts with a table"}

_TEMPLATES: dict[str, tuple[Callable[[], bytes], Callable[[int], list[dict[str, Any]]], int]] = {
    **{name: (build, rows, CORPUS_ROWS) for name, build in CORPUS.items()},
    **{name: (build, paged_rows, PAGED_ROWS) for name, build in PDF_CORPUS.items()},
}


@pytest.fixture(scope="module")
async def office() -> AsyncIterator[OfficePool]:
    pool = OfficePool(2, max_conversions=300,
                      limits=dataclasses.replace(OFFICE_LIMITS, wall_s=120))
    await pool.start()
    try:
        yield pool
    finally:
        await pool.stop()


def _pages(pdf: bytes) -> list[tuple[Any, str]]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [(page.render(scale=1).to_pil().convert("RGB"),
                 re.sub(r"\s+", " ", page.get_textpage().get_text_bounded()).strip())
                for page in document]
    finally:
        document.close()


def _different_pixels(left: Any, right: Any) -> int:
    if left.size != right.size:
        return left.size[0] * left.size[1]
    difference = ImageChops.difference(left, right).convert("L")
    return sum(count for value, count in enumerate(difference.histogram()) if value)


def test_the_judgement_of_each_template() -> None:
    for name, build in CORPUS.items():
        source = build()
        choice = choose_pdf_mode(source, choose_renderer(source).renderer)
        if name in EXPECTED_SINGLE:
            assert choice.mode == SINGLE and EXPECTED_SINGLE[name] in str(choice.reason), name
        else:
            assert choice == choose_pdf_mode(source, PARTS) and choice.mode == MERGED, name
    for name, build in PDF_CORPUS.items():
        assert choose_pdf_mode(build(), PARTS).mode == MERGED, name
    for name, (build, reason) in SINGLE_CORPUS.items():
        choice = choose_pdf_mode(build(), PARTS)
        assert choice.mode == SINGLE and reason in str(choice.reason), (name, choice)
    assert choose_pdf_mode(CORPUS["fields"](), "docxtpl").mode == SINGLE


@pytest.mark.parametrize("name", sorted(n for n in _TEMPLATES if n not in EXPECTED_SINGLE))
async def test_merged_rows_give_the_pages_of_rows_converted_one_by_one(
        name: str, office: OfficePool) -> None:
    build, make_rows, count = _TEMPLATES[name]
    compiled = compile_template(build(), template_environment())
    documents = [render_row(compiled, row) for row in make_rows(count)]
    merged = await office.to_pdf(merge_rows(documents), pages=40, destinations=True)
    parts = split_rows(merged, len(documents))
    singles = await asyncio.gather(*(office.to_pdf(document) for document in documents))
    for index, (part, single) in enumerate(zip(parts, singles, strict=True)):
        got, want = _pages(part), _pages(single)
        assert len(got) == len(want), (name, index, len(got), len(want))
        for page, ((image, text), (wanted_image, wanted_text)) in enumerate(
                zip(got, want, strict=True)):
            assert text == wanted_text, (name, index, page)
            different = _different_pixels(image, wanted_image)
            assert different <= MAX_DIFFERENT_PIXELS, (name, index, page, different)


class _Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data


async def test_a_failing_row_in_a_group_fails_alone() -> None:
    """The group's PDF is over the size limit (so is the big row's alone): the group is
    converted again row by row, and only the big row fails."""
    from concurrent.futures import ThreadPoolExecutor

    source = PDF_CORPUS["page_numbers"]()
    small = paged_rows(4)[0]
    big = {**small, "paragraphs": 120}
    sized = OfficePool(1, max_conversions=300, limits=dataclasses.replace(
        OFFICE_LIMITS, wall_s=120, max_output_bytes=len(await _one_pdf(source, small)) * 3 // 2))
    await sized.start()
    bucket = _Bucket()
    try:
        with ThreadPoolExecutor(2) as renderers:
            merged = MergedPdf(bucket, renderers, 2, sized, 1, linger_s=0.05)  # type: ignore[arg-type]
            outcomes = await asyncio.gather(
                *(merged.render("t1", "tpl", source, PARTS, row)
                  for row in (small, big, small)), return_exceptions=True)
    finally:
        await sized.stop()
    assert isinstance(outcomes[1], Permanent) and "over the limit" in str(outcomes[1])
    for outcome in (outcomes[0], outcomes[2]):
        assert not isinstance(outcome, BaseException), outcome
        pack = bucket.objects[outcome.pack]
        pdf = pack[outcome.offset: outcome.offset + outcome.length]
        assert pdf.startswith(b"%PDF") and len(_pages(pdf)) == 1


async def _one_pdf(source: bytes, row: dict[str, Any]) -> bytes:
    pool = OfficePool(1, max_conversions=300)
    await pool.start()
    try:
        return await pool.to_pdf(render_row(compile_template(source, template_environment()),
                                            row))
    finally:
        await pool.stop()


async def test_rows_of_a_group_are_split_at_their_own_pages(office: OfficePool) -> None:
    """Through the docrender path: rows of 1 to 5 pages in one group, each stored PDF the
    row's own pages (its header names its row)."""
    from concurrent.futures import ThreadPoolExecutor

    source = PDF_CORPUS["page_numbers"]()
    data = paged_rows(5)
    bucket = _Bucket()
    with ThreadPoolExecutor(2) as renderers:
        merged = MergedPdf(bucket, renderers, 2, office, 1, linger_s=0.05)  # type: ignore[arg-type]
        placed = await asyncio.gather(*(merged.render("t2", "tpl", source, PARTS, row)
                                        for row in data))
    assert len({where.pack for where in placed}) == 1, "one group, one pack"
    for row, where in zip(data, placed, strict=True):
        pdf = bucket.objects[where.pack][where.offset: where.offset + where.length]
        pages = _pages(pdf)
        assert all(f"编号 — {row['age']}" in text for _, text in pages), row["age"]
        assert pages[-1][1].count("签字") == 1
