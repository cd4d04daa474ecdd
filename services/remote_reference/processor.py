"""Runs submitted batches: each file is downloaded from its presigned input URL, converted,
and uploaded to its presigned output URL, at most `max_parallel` files at a time. Batches are
kept in memory (a restart forgets them; the protocol's client then submits them again)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from libs.images import DEFAULT_MAX_SIZE, NotAnImage, thumbnail
from libs.logging import get_logger
from libs.office.pool import OfficePool
from libs.workflows import DOCX_TO_PDF, IMAGE_THUMBNAIL, Workflow, as_capability
from proto.remote import (
    PROTOCOL,
    BatchFile,
    BatchState,
    BatchStatus,
    FileResult,
    FileState,
    Health,
    SubmitBatch,
)

log = get_logger(__name__)

Converter = Callable[[bytes, dict[str, object]], Awaitable[bytes]]
MAX_INPUT_BYTES = 100 * 1024 * 1024


class Rejected(ValueError):
    pass


@dataclass
class _Batch:
    request: SubmitBatch
    results: dict[str, FileResult]
    created: float = field(default_factory=time.monotonic)
    runner: asyncio.Task[None] | None = None
    cancelled: bool = False

    def status(self) -> BatchStatus:
        finished = all(r.status in (FileState.DONE, FileState.FAILED)
                       for r in self.results.values())
        state = (BatchState.CANCELLED if self.cancelled else
                 BatchState.DONE if finished else BatchState.RUNNING)
        return BatchStatus(batch_id=self.request.batch_id, status=state,
                           files=list(self.results.values()))


class Processor:
    def __init__(self, name: str, office: OfficePool | None, *, max_parallel: int,
                 max_batch_size: int, forget_after_s: float = 3600.0) -> None:
        self._name = name
        self._office = office
        self._max_batch_size = max_batch_size
        self._forget_after_s = forget_after_s
        self._slots = asyncio.Semaphore(max_parallel)
        self._http = httpx.AsyncClient(timeout=60, trust_env=False)
        self._batches: dict[str, _Batch] = {}
        self._converters: dict[str, tuple[Workflow, Converter]] = {
            IMAGE_THUMBNAIL.name: (IMAGE_THUMBNAIL, self._thumbnail)}
        if office is not None:
            self._converters[DOCX_TO_PDF.name] = (DOCX_TO_PDF, self._pdf)
        self.in_flight = 0
        self.max_in_flight = 0

    def health(self) -> Health:
        return Health(protocol=PROTOCOL, name=self._name,
                      workflows=as_capability([w for w, _ in self._converters.values()]),
                      max_batch_size=self._max_batch_size, in_flight=self.in_flight,
                      max_in_flight=self.max_in_flight)

    def submit(self, request: SubmitBatch) -> BatchStatus:
        known = self._batches.get(request.batch_id)
        if known is not None:
            return known.status()  # a resubmission: same batch, not new work
        if request.workflow not in self._converters:
            raise Rejected(f"unknown workflow {request.workflow!r}")
        if len(request.files) > self._max_batch_size:
            raise Rejected(f"at most {self._max_batch_size} files per batch")
        self._forget_old()
        batch = _Batch(request, {f.id: FileResult(id=f.id, status=FileState.PENDING)
                                 for f in request.files})
        batch.runner = asyncio.create_task(self._run(batch), name=f"batch:{request.batch_id}")
        self._batches[request.batch_id] = batch
        log.info("batch.accepted", batch=request.batch_id, files=len(request.files))
        return batch.status()

    def status(self, batch_id: str) -> BatchStatus | None:
        batch = self._batches.get(batch_id)
        return batch.status() if batch else None

    def cancel(self, batch_id: str) -> bool:
        batch = self._batches.get(batch_id)
        if batch is None:
            return False
        batch.cancelled = True
        if batch.runner is not None:
            batch.runner.cancel()
        return True

    async def close(self) -> None:
        for batch in self._batches.values():
            if batch.runner is not None:
                batch.runner.cancel()
        await self._http.aclose()

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self._forget_after_s
        for batch_id in [b for b, batch in self._batches.items() if batch.created < cutoff]:
            del self._batches[batch_id]

    async def _run(self, batch: _Batch) -> None:
        convert = self._converters[batch.request.workflow][1]
        await asyncio.gather(*(self._file(batch, f, convert)
                               for f in batch.request.files))

    async def _file(self, batch: _Batch, file: BatchFile, convert: Converter) -> None:
        async with self._slots:
            batch.results[file.id] = FileResult(id=file.id, status=FileState.RUNNING)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                batch.results[file.id] = await self._process(file, convert,
                                                             batch.request.options)
            finally:
                self.in_flight -= 1

    async def _process(self, file: BatchFile, convert: Converter,
                       options: dict[str, object]) -> FileResult:
        try:
            source = await self._http.get(file.input_url)
            source.raise_for_status()
            if len(source.content) > MAX_INPUT_BYTES:
                raise Rejected(f"{file.name} is larger than {MAX_INPUT_BYTES} bytes")
            output = await convert(source.content, options)
            uploaded = await self._http.put(file.output_url, content=output,
                                            headers={"Content-Type": file.output_content_type})
            uploaded.raise_for_status()
        except (Rejected, NotAnImage) as exc:
            return FileResult(id=file.id, status=FileState.FAILED, error=str(exc))
        except Exception as exc:  # a network hiccup, a converter that timed out
            log.warning("file.failed", file=file.name, error=repr(exc))
            return FileResult(id=file.id, status=FileState.FAILED, retryable=True,
                              error=f"{type(exc).__name__}: {exc}")
        return FileResult(id=file.id, status=FileState.DONE, output_bytes=len(output))

    async def _pdf(self, data: bytes, options: dict[str, object]) -> bytes:
        assert self._office is not None
        return await self._office.to_pdf(data)

    async def _thumbnail(self, data: bytes, options: dict[str, object]) -> bytes:
        max_size = int(str(options.get("max_size", DEFAULT_MAX_SIZE)))
        return await asyncio.to_thread(thumbnail, data, max_size)
