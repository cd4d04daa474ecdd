"""Documents from the part-level renderer convert in LibreOffice (one row of every corpus
template), and a conversion cancelled half-way leaves no stale reply for the next one."""

from __future__ import annotations

import asyncio
import dataclasses
import io

import pypdf

from libs.docxfast.parts import compile_template, render_row
from libs.office.pool import OFFICE_LIMITS, OfficePool
from libs.templating import template_environment
from tests.unit.docx_corpus import CORPUS, rows


async def test_every_corpus_template_converts_to_pdf() -> None:
    row = rows(2)[1]  # a name with XML-special characters, a multi-line note
    documents = {name: render_row(compile_template(build(), template_environment()), row)
                 for name, build in CORPUS.items()}
    pool = OfficePool(2, max_conversions=300, limits=dataclasses.replace(OFFICE_LIMITS, wall_s=90))
    await pool.start()
    try:
        pdfs = await asyncio.gather(*(pool.to_pdf(d) for d in documents.values()))
    finally:
        await pool.stop()
    for name, pdf in zip(documents, pdfs, strict=True):
        assert pdf.startswith(b"%PDF"), name
    text = "".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(pdfs[list(documents).index("fields")])).pages)
    assert "O'Brien & <Sons>" in text


async def test_a_cancelled_conversion_does_not_poison_the_instance() -> None:
    source = render_row(compile_template(CORPUS["fields"](), template_environment()),
                        rows(1)[0])
    pool = OfficePool(1, max_conversions=300, limits=dataclasses.replace(OFFICE_LIMITS, wall_s=90))
    await pool.start()
    try:
        first = asyncio.create_task(pool.to_pdf(source))
        await asyncio.sleep(0.05)  # the request is with LibreOffice now
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        text = "".join(page.extract_text() for page in pypdf.PdfReader(
            io.BytesIO(await pool.to_pdf(source))).pages)
        assert "张三" in text
    finally:
        await pool.stop()
