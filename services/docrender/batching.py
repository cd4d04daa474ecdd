"""Rows rendered together: the DOCX items that are in flight at the same moment for the same
template go to the render processes as one call per process, and their documents are stored as
one object (a *pack*, the documents back to back), not one object per document.

Per document that saves a process round trip and an S3 write; the batch ZIP later copies each
document out of its pack as it was stored (services/docrender/packaging.py).

PDFs leave their LibreOffice instances one at a time, so `PackWriter` gathers the ones a task
finishes within a short window into one pack instead: a 200-row PDF batch then writes (and its
ZIP reads back) a few dozen objects, not 200."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from libs.errors import Permanent
from libs.storage import Storage
from services.docrender.naming import pack_key
from services.docrender.render.docx import RenderedRow, render_rows

PACK_TYPE = "application/octet-stream"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Packed:
    """Where a document is: `length` bytes at `offset` of the object `pack`."""

    pack: str
    offset: int
    length: int
    crc: int


@dataclass(slots=True)
class RowBatch:
    task_id: str
    key: str
    source: bytes
    renderer: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    waiters: list[asyncio.Future[Packed]] = field(default_factory=list)


class RowGatherer:
    """Rows of one template of one task that arrive within `linger_s` of the first (at most
    `max_rows`) are handed to `_flush` together; each row's caller waits for its own result."""

    def __init__(self, storage: Storage, renderers: Executor, processes: int, *,
                 linger_s: float, max_rows: int) -> None:
        self._storage = storage
        self._renderers = renderers
        self._processes = max(processes, 1)
        self._linger_s = linger_s
        self._max_rows = max_rows
        self._open: dict[tuple[str, str], RowBatch] = {}

    async def render(self, task_id: str, key: str, source: bytes, renderer: str,
                     row: dict[str, Any]) -> Packed:
        """This row's document, stored; raises `Permanent` if the template refuses the row."""
        batch = self._open.get((task_id, key))
        if batch is None:
            batch = self._open[(task_id, key)] = RowBatch(task_id, key, source, renderer)
            asyncio.get_running_loop().call_later(self._linger_s, self._close, batch)
        waiter: asyncio.Future[Packed] = asyncio.get_running_loop().create_future()
        batch.rows.append(row)
        batch.waiters.append(waiter)
        if len(batch.rows) >= self._max_rows:
            self._close(batch)
        return await waiter

    def _close(self, batch: RowBatch) -> None:
        if self._open.get((batch.task_id, batch.key)) is batch:
            del self._open[(batch.task_id, batch.key)]
            task = asyncio.create_task(self._flush(batch))
            task.add_done_callback(lambda _: None)

    async def _flush(self, batch: RowBatch) -> None:
        raise NotImplementedError

    async def _in_processes(self, function: Callable[..., list[T]], batch: RowBatch) -> list[T]:
        """`function(key, source, renderer, rows)` with one call per render process, each with
        an equal share of the rows; the results in row order."""
        loop = asyncio.get_running_loop()
        share = -(-len(batch.rows) // self._processes)
        calls = [loop.run_in_executor(self._renderers, function, batch.key, batch.source,
                                      batch.renderer, batch.rows[start: start + share])
                 for start in range(0, len(batch.rows), share)]
        return [row for chunk in await asyncio.gather(*calls) for row in chunk]


class DocxBatcher(RowGatherer):
    def __init__(self, storage: Storage, renderers: Executor, processes: int, *,
                 linger_s: float = 0.002, max_rows: int = 64) -> None:
        super().__init__(storage, renderers, processes, linger_s=linger_s, max_rows=max_rows)

    async def _flush(self, batch: RowBatch) -> None:
        try:
            results = await self._in_processes(render_rows, batch)
            placed = await self._store(batch.task_id, results)
        except Exception as exc:  # the executor or the store failed: every row is retried
            fail(batch.waiters, exc)
            return
        for waiter, result, where in zip(batch.waiters, results, placed, strict=True):
            if waiter.done():
                continue
            if where is not None:
                waiter.set_result(where)
            elif result.rejected is not None:
                waiter.set_exception(Permanent(result.rejected))
            else:
                waiter.set_exception(RuntimeError(result.error))

    async def _store(self, task_id: str, results: list[RenderedRow]) -> list[Packed | None]:
        return await store_pack(self._storage, task_id, [
            None if result.data is None else (result.data, result.crc) for result in results])


def fail(waiters: list[asyncio.Future[Packed]], exc: BaseException) -> None:
    """The rows still waiting get `exc`."""
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(exc)


async def store_pack(storage: Storage, task_id: str,
                     documents: list[tuple[bytes, int] | None]) -> list[Packed | None]:
    """The documents, each with its CRC-32 (None: a row without one), as one pack: where
    each one is."""
    key = pack_key(task_id)
    placed: list[Packed | None] = []
    pieces, offset = [], 0
    for document in documents:
        if document is None:
            placed.append(None)
            continue
        data, crc = document
        placed.append(Packed(key, offset, len(data), crc))
        pieces.append(data)
        offset += len(data)
    if pieces:
        await storage.put_bytes(key, b"".join(pieces), PACK_TYPE)
    return placed


@dataclass(slots=True)
class _OpenPack:
    task_id: str
    documents: list[bytes] = field(default_factory=list)
    waiters: list[asyncio.Future[Packed]] = field(default_factory=list)
    size: int = 0


class PackWriter:
    """Stores documents finished one by one: those of one task that arrive within `linger_s`
    of the first go into one pack, written then (or at `max_documents` / `max_bytes`, or as
    soon as no other document of the task is being produced here: the last ones of a batch do
    not wait out the linger). A document's `store` returns once its pack is in the bucket; a
    failed write fails every document of the pack (their items are retried)."""

    def __init__(self, storage: Storage, *, linger_s: float = 0.2, max_documents: int = 32,
                 max_bytes: int = 32 * 1024 * 1024) -> None:
        self._storage = storage
        self._linger_s = linger_s
        self._max_documents = max_documents
        self._max_bytes = max_bytes
        self._open: dict[str, _OpenPack] = {}
        self._producing: Counter[str] = Counter()

    @contextlib.contextmanager
    def producing(self, task_id: str) -> Iterator[None]:
        """Wraps the making of one document of `task_id` up to its `store`."""
        self._producing[task_id] += 1
        try:
            yield
        finally:
            self._producing[task_id] -= 1
            if self._producing[task_id] <= 0:
                del self._producing[task_id]

    async def store(self, task_id: str, data: bytes) -> Packed:
        pack = self._open.get(task_id)
        if pack is None:
            pack = self._open[task_id] = _OpenPack(task_id)
            asyncio.get_running_loop().call_later(self._linger_s, self._close, pack)
        waiter: asyncio.Future[Packed] = asyncio.get_running_loop().create_future()
        pack.documents.append(data)
        pack.waiters.append(waiter)
        pack.size += len(data)
        if (len(pack.documents) >= self._max_documents or pack.size >= self._max_bytes
                or self._producing[task_id] <= len(pack.documents)):
            self._close(pack)
        return await waiter

    def _close(self, pack: _OpenPack) -> None:
        if self._open.get(pack.task_id) is pack:
            del self._open[pack.task_id]
            task = asyncio.create_task(self._write(pack))
            task.add_done_callback(lambda _: None)

    async def _write(self, pack: _OpenPack) -> None:
        key = pack_key(pack.task_id)
        placed, offset = [], 0
        for data in pack.documents:
            placed.append(Packed(key, offset, len(data), zlib.crc32(data)))
            offset += len(data)
        try:
            await self._storage.put_bytes(key, b"".join(pack.documents), PACK_TYPE)
        except Exception as exc:
            for waiter in pack.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter, where in zip(pack.waiters, placed, strict=True):
            if not waiter.done():
                waiter.set_result(where)
