"""The `documents` finalize step: one ZIP of the batch, streamed from the bucket back into the
bucket, with memory flat however large the batch.

The documents come from the batch and, for a retry-failed batch, its parents (`lineage`), a
page at a time, and are checked to exist before anything is written. Each document is copied
into the ZIP as it was stored (stored entries: DOCX and PDF are compressed already), a pack's
documents with one ranged read each, and the ZIP is assembled by `ZipWriter` from their sizes
and CRCs (computed when they were rendered), so nothing is inflated or compressed again. A
worker thread writes the ZIP into a multipart upload that holds two parts at most
(libs/multipart.py). The manifest, one line per item, is spooled to a temporary file and
deflated into the archive last; entry names are unique whatever the templates are called."""

import asyncio
import json
import tempfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.docxfast.zipraw import DEFLATED, STORED, Writable, ZipWriter, iter_chunks
from libs.errors import ArtifactsMissing
from libs.observability import tracing
from libs.storage import ObjectMissing, Storage, task_prefix
from libs.worker.handler import FinalizeContext
from proto.documents import DocumentParams, DocumentResult
from services.docrender.lineage import Entry, batch_pages
from services.docrender.naming import MANIFEST, zip_entry, zip_folders, zip_key

MAX_UNINDEXED_BYTES = 200 * 1024 * 1024  # a document stored without its CRC is read whole


class ZipPackager:
    def __init__(self, db: AsyncEngine, storage: Storage) -> None:
        self._db = db
        self._storage = storage

    async def __call__(self, ctx: FinalizeContext) -> dict[str, Any]:
        await self._verify(ctx)
        key = zip_key(ctx.task_id)
        counts = {"documents": 0, "failed": 0}
        loop = asyncio.get_running_loop()

        def pages() -> Iterator[list[Entry]]:  # iterated by the writer thread
            source = batch_pages(self._db, ctx.task_id, ctx.tenant_id).__aiter__()

            async def next_page() -> list[Entry] | None:
                try:
                    return await source.__anext__()
                except StopAsyncIteration:
                    return None

            while (page := asyncio.run_coroutine_threadsafe(next_page(), loop).result()) \
                    is not None:
                yield page

        archive = _Archive(self._storage, ctx.params, counts)
        size = await self._stream(key, lambda out: archive.write(out, pages()))
        return {"zipKey": key, "zipSize": size, **counts}

    async def _verify(self, ctx: FinalizeContext) -> None:
        """A document reported done may be gone from the bucket (an endpoint that lost its
        data): packing would fail half-way or, worse, ship a ZIP without it. Those items fail
        instead, with the task, so retry-failed renders exactly them. One pass collects the
        objects (a pack holds many documents), a second one, only when some are gone, the
        items they held."""
        stored: set[str] = set()
        prefixes: set[str] = set()
        done = 0
        async for page in batch_pages(self._db, ctx.task_id, ctx.tenant_id):
            for entry in page:
                if entry.stored_in:
                    stored.add(entry.stored_in)
                    prefixes.add(task_prefix(entry.task_id))
                    done += 1
        missing = set(await self._storage.missing(stored, prefixes))
        if not missing:
            return
        lost: list[int] = []
        count = 0
        async for page in batch_pages(self._db, ctx.task_id, ctx.tenant_id):
            for entry in page:
                if entry.stored_in in missing:
                    count += 1
                    if entry.task_id == ctx.task_id:
                        lost.append(entry.seq)
        raise ArtifactsMissing(
            f"{ObjectMissing.code}: {count} of {done} documents are no longer "
            "stored; retry-failed renders them again", lost)

    async def _stream(self, key: str, write: Callable[[Writable], int]) -> int:
        """Runs `write` in a worker thread into an upload of `key` (parts go up as they fill,
        memory stays two parts); a failed upload stores nothing, and a ZIP an earlier attempt
        stored is removed (the task's outcome is this attempt's)."""

        def upload() -> int:
            target = self._storage.open_upload(key, "application/zip")
            try:
                size = write(target)
            except BaseException:
                target.abort()
                raise
            target.close()
            return size

        try:
            with tracing.span("s3.put", kind=SpanKind.CLIENT):
                return await asyncio.to_thread(upload)
        except Exception as exc:
            await self._storage.delete_keys([key])
            raise RuntimeError(f"ZIP packaging failed: {exc!r}") from exc


class _Archive:
    """Writes the batch ZIP (blocking; runs in the writer thread)."""

    def __init__(self, storage: Storage, params: DocumentParams, counts: dict[str, int]) -> None:
        self._storage = storage
        self._templates = params.templates
        self._folders = zip_folders(self._templates)
        self._format = params.output_format
        self._counts = counts

    def write(self, out: Writable, pages: Iterator[list[Entry]]) -> int:
        writer = ZipWriter(out)
        with tempfile.TemporaryFile() as manifest:
            manifest.write(b"[")
            first = True
            for page in pages:
                named = []
                for entry in page:
                    line, name = self._manifest_line(entry)
                    manifest.write((b"\n" if first else b",\n") + line)
                    first = False
                    if name is not None and entry.result:
                        named.append((name, entry.result))
                self._copy_documents(writer, named)
            manifest.write(b"\n]\n")
            _add_deflated(writer, MANIFEST, manifest)
        return writer.close()

    def _manifest_line(self, entry: Entry) -> tuple[bytes, str | None]:
        template_id, row_index = entry.template_id, entry.row_index
        name = None
        if entry.result is not None and template_id in self._folders:
            name = zip_entry(self._folders[template_id], row_index, self._format)
            self._counts["documents"] += 1
        elif entry.status == "failed":
            self._counts["failed"] += 1
        line = {"rowIndex": row_index, "templateId": template_id,
                "templateName": template.name if (template := self._templates.get(template_id))
                else None,
                "status": entry.status, "file": name, "error": entry.error}
        return json.dumps(line, ensure_ascii=False).encode("utf-8"), name

    def _copy_documents(self, writer: ZipWriter, named: list[tuple[str, DocumentResult]]) -> None:
        packs: dict[str, list[tuple[str, DocumentResult]]] = {}
        for name, result in named:
            if result.pack is not None:
                packs.setdefault(result.pack, []).append((name, result))
            else:
                self._copy_object(writer, name, result)
        for pack, documents in packs.items():
            documents.sort(key=lambda doc: doc[1].offset)
            start = documents[0][1].offset
            end = max(r.offset + r.size for _, r in documents)
            with self._storage.open_range(pack, start, end - start) as stream:
                position = start
                for name, result in documents:
                    offset, size = result.offset, result.size
                    for _ in iter_chunks(stream, offset - position):
                        pass  # a gap: a document of this pack listed on another page
                    writer.begin(name, STORED, result.crc or 0, size, size)
                    for chunk in iter_chunks(stream, size):
                        writer.write(chunk)
                    position = offset + size

    def _copy_object(self, writer: ZipWriter, name: str, result: DocumentResult) -> None:
        """A document stored as its own object (PDF, or a DOCX rendered before packs)."""
        size, key = result.size, result.key or ""
        if result.crc is not None:
            writer.begin(name, STORED, result.crc, size, size)
            self._storage.copy_object_to(key, _Forward(writer))  # type: ignore[arg-type]
            return
        with self._storage.open_range(key, 0, size) as stream:
            data = b"".join(iter_chunks(stream, min(size, MAX_UNINDEXED_BYTES)))
        writer.begin(name, STORED, zlib.crc32(data), len(data), len(data))
        writer.write(data)


class _Forward:
    """Storage.copy_object_to writes into a file; this file is the open ZIP entry."""

    def __init__(self, writer: ZipWriter) -> None:
        self._writer = writer

    def write(self, chunk: bytes) -> int:
        self._writer.write(chunk)
        return len(chunk)


def _add_deflated(writer: ZipWriter, name: str, source: IO[bytes]) -> None:
    """Deflates a spooled file into a second one (CRC and sizes must precede the data)."""
    source.seek(0)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    crc, size = 0, 0
    with tempfile.TemporaryFile() as packed:
        while chunk := source.read(1024 * 1024):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            packed.write(compressor.compress(chunk))
        packed.write(compressor.flush())
        compressed_size = packed.tell()
        packed.seek(0)
        writer.begin(name, DEFLATED, crc, compressed_size, size)
        for chunk in iter_chunks(packed, compressed_size):
            writer.write(chunk)
