"""PDFs of rows converted together: most of a LibreOffice conversion is loading and exporting a
document, not laying out its pages, so rows of a merge-safe template (`pdfMode: merged`,
libs/docxfast/merge_safety.py) that are in flight at the same moment are rendered, merged into
one document (libs/docxfast/merge.py), converted once and split back into one PDF per row at
each row's named destination (libs/office/split.py).

A group is bounded by rows and by estimated pages, so its memory and conversion time stay
within the converter's limits; its time limit grows with its pages (OfficePool.to_pdf). The
rows are spread over the converter's instances. A group whose merge, conversion or split fails
is converted again row by row: a bad row fails alone, its neighbours are unaffected. Each
group's PDFs are stored as one pack."""

from __future__ import annotations

import asyncio
import zlib
from concurrent.futures import Executor

from libs.docxfast.merge import merge_rows
from libs.errors import Permanent
from libs.logging import get_logger
from libs.office.pool import OfficePool
from libs.office.split import split_rows
from libs.storage import Storage
from services.docrender.batching import RowBatch, RowGatherer, fail, store_pack
from services.docrender.render.docx import RenderedRow, render_rows_paged

log = get_logger(__name__)

MAX_GROUP_ROWS = 32
# Pages of a group: with the pool's per-page allowance its time limit stays under the item's.
MAX_GROUP_PAGES = 100
# DOCX bytes of a group: merging and converting it stays well inside the render process's and
# LibreOffice's memory caps.
MAX_GROUP_BYTES = 32 * 2**20


def plan_groups(rows: list[tuple[int, int]], instances: int, *,
                max_rows: int = MAX_GROUP_ROWS, max_pages: int = MAX_GROUP_PAGES,
                max_bytes: int = MAX_GROUP_BYTES) -> list[list[int]]:
    """Consecutive row positions, given each row's (estimated pages, DOCX bytes), in groups
    of at most `max_rows` rows, `max_pages` pages and `max_bytes` bytes (a row over a bound
    is a group of its own); at least one group per instance when there are rows enough to
    keep every instance busy."""
    share = max(1, min(max_rows, -(-len(rows) // max(instances, 1))))
    groups: list[list[int]] = []
    current: list[int] = []
    pages = size = 0
    for position, (row_pages, row_bytes) in enumerate(rows):
        if current and (len(current) >= share or pages + row_pages > max_pages
                        or size + row_bytes > max_bytes):
            groups.append(current)
            current, pages, size = [], 0, 0
        current.append(position)
        pages += row_pages
        size += row_bytes
    if current:
        groups.append(current)
    return groups


class MergedPdf(RowGatherer):
    def __init__(self, storage: Storage, renderers: Executor, processes: int,
                 office: OfficePool, instances: int, *, linger_s: float = 0.02,
                 max_rows: int = 128) -> None:
        super().__init__(storage, renderers, processes, linger_s=linger_s, max_rows=max_rows)
        self._office = office
        self._instances = max(instances, 1)

    async def _flush(self, batch: RowBatch) -> None:
        try:
            rendered = await self._in_processes(render_rows_paged, batch)
        except Exception as exc:  # the render processes failed: every row is retried
            fail(batch.waiters, exc)
            return
        ready: list[int] = []
        for position, (result, _) in enumerate(rendered):
            if result.data is not None:
                ready.append(position)
            elif result.rejected is not None:
                fail([batch.waiters[position]], Permanent(result.rejected))
            else:
                fail([batch.waiters[position]], RuntimeError(result.error))
        groups = plan_groups([(rendered[p][1], len(rendered[p][0].data or b"")) for p in ready],
                             self._instances)
        await asyncio.gather(*(self._group(batch, [ready[i] for i in group], rendered)
                               for group in groups))

    async def _group(self, batch: RowBatch, positions: list[int],
                     rendered: list[tuple[RenderedRow, int]]) -> None:
        documents = [rendered[p][0].data for p in positions]
        pages = sum(rendered[p][1] for p in positions)
        pdfs = await self._convert([d for d in documents if d is not None], pages)
        waiters = [batch.waiters[p] for p in positions]
        stored = [(pdf, zlib.crc32(pdf)) if isinstance(pdf, bytes) else None for pdf in pdfs]
        try:
            placed = await store_pack(self._storage, batch.task_id, stored)
        except Exception as exc:  # the store failed: these rows are retried
            fail(waiters, exc)
            return
        for waiter, pdf, where in zip(waiters, pdfs, placed, strict=True):
            if waiter.done():
                continue
            if where is not None:
                waiter.set_result(where)
            else:
                waiter.set_exception(pdf if isinstance(pdf, BaseException)
                                     else RuntimeError("no PDF"))

    async def _convert(self, documents: list[bytes], pages: int) -> list[bytes | BaseException]:
        if len(documents) > 1:
            loop = asyncio.get_running_loop()
            try:
                merged = await loop.run_in_executor(self._renderers, merge_rows, documents)
                pdf = await self._office.to_pdf(merged, pages=pages, destinations=True)
                split: list[bytes] = await loop.run_in_executor(
                    self._renderers, split_rows, pdf, len(documents))
                return list(split)
            except Exception as exc:  # retried row by row: a bad row fails alone
                log.warning("pdf.merged_failed", rows=len(documents), pages=pages,
                            error=f"{type(exc).__name__}: {exc}")
        return list(await asyncio.gather(*(self._office.to_pdf(d) for d in documents),
                                         return_exceptions=True))

