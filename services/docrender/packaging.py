"""The `documents` finalize step: one ZIP of the batch, streamed from the bucket back into the
bucket, with memory flat however large the batch.

Items are read a page at a time; each document is copied into the ZIP as it was stored
(stored entries: DOCX and PDF are compressed already), a pack's documents with one ranged read
each, and the ZIP is assembled by `ZipWriter` from their sizes and CRCs (computed when they
were rendered), so nothing is inflated or compressed again. A writer thread feeds a pipe that
the upload reads. The manifest, one line per item, is spooled to a temporary file and deflated
into the archive last; entry names are unique whatever the templates are called."""

import asyncio
import json
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.docxfast.zipraw import DEFLATED, STORED, ZipWriter, iter_chunks
from libs.storage import Storage
from libs.tasks import readers
from libs.tasks.model import Item
from libs.worker.handler import FinalizeContext
from services.docrender.naming import MANIFEST, zip_entry, zip_folders, zip_key

PAGE = 1000
MAX_UNINDEXED_BYTES = 200 * 1024 * 1024  # a document stored without its CRC is read whole


class ZipPackager:
    def __init__(self, db: AsyncEngine, storage: Storage) -> None:
        self._db = db
        self._storage = storage

    async def __call__(self, ctx: FinalizeContext) -> dict[str, Any]:
        key = zip_key(ctx.task_id)
        counts = {"documents": 0, "failed": 0}
        loop = asyncio.get_running_loop()

        def pages() -> Iterator[list[Item]]:  # called from the writer thread
            offset = 0
            while True:
                page = asyncio.run_coroutine_threadsafe(
                    self._page(ctx.task_id, offset), loop).result()
                yield page
                offset += len(page)
                if len(page) < PAGE:
                    return

        archive = _Archive(self._storage, ctx.params, counts)
        size = await self._stream(key, lambda out: archive.write(out, pages()))
        return {"zipKey": key, "zipSize": size, **counts}

    async def _page(self, task_id: str, offset: int) -> list[Item]:
        async with self._db.connect() as conn:
            return await readers.get_items(conn, task_id, offset=offset, limit=PAGE)

    async def _stream(self, key: str, write: Any) -> int:
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []
        total: list[int] = []

        def writer_main() -> None:
            try:
                with os.fdopen(write_fd, "wb") as out:
                    total.append(write(out))
            except BaseException as exc:  # reported after the upload returns
                failure.append(exc)

        writer = threading.Thread(target=writer_main, name="zip-writer", daemon=True)
        writer.start()
        with os.fdopen(read_fd, "rb") as stream:
            try:
                await self._storage.put_stream(key, stream, "application/zip")
            finally:
                stream.close()  # unblocks a writer still writing if the upload failed
                await asyncio.to_thread(writer.join)
        if failure:
            await self._storage.delete_keys([key])  # never leave a truncated ZIP behind
            raise RuntimeError(f"ZIP packaging failed: {failure[0]!r}") from failure[0]
        return total[0]


class _Archive:
    """Writes the batch ZIP (blocking; runs in the writer thread)."""

    def __init__(self, storage: Storage, params: dict[str, Any], counts: dict[str, int]) -> None:
        self._storage = storage
        self._templates: dict[str, dict[str, Any]] = params.get("templates", {})
        self._folders = zip_folders(self._templates)
        self._format = str(params.get("outputFormat", "docx"))
        self._row_count = max(int(params.get("rowCount", 1)), 1)
        self._counts = counts

    def write(self, out: BinaryIO, pages: Iterator[list[Item]]) -> int:
        writer = ZipWriter(out)
        with tempfile.TemporaryFile() as manifest:
            manifest.write(b"[")
            first = True
            for page in pages:
                named = []
                for item in page:
                    line, name = self._manifest_line(item)
                    manifest.write((b"\n" if first else b",\n") + line)
                    first = False
                    if name is not None and item.result:
                        named.append((name, item.result))
                self._copy_documents(writer, named)
            manifest.write(b"\n]\n")
            _add_deflated(writer, MANIFEST, manifest)
        return writer.close()

    def _manifest_line(self, item: Item) -> tuple[bytes, str | None]:
        result = item.result or {}
        template_id = item.group_key or ""
        row_index = int(result.get("rowIndex", item.seq % self._row_count))
        done = item.status.value == "done" and bool(result)
        name = None
        if done and template_id in self._folders:
            name = zip_entry(self._folders[template_id], row_index, self._format)
            self._counts["documents"] += 1
        elif item.status.value == "failed":
            self._counts["failed"] += 1
        line = {"rowIndex": row_index, "templateId": template_id,
                "templateName": self._templates.get(template_id, {}).get("name"),
                "status": item.status.value, "file": name, "error": item.error}
        return json.dumps(line, ensure_ascii=False).encode("utf-8"), name

    def _copy_documents(self, writer: ZipWriter, named: list[tuple[str, dict[str, Any]]]) -> None:
        packs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for name, result in named:
            if "pack" in result:
                packs.setdefault(result["pack"], []).append((name, result))
            else:
                self._copy_object(writer, name, result)
        for pack, documents in packs.items():
            documents.sort(key=lambda doc: int(doc[1]["offset"]))
            start = int(documents[0][1]["offset"])
            end = max(int(r["offset"]) + int(r["size"]) for _, r in documents)
            with self._storage.open_range(pack, start, end - start) as stream:
                position = start
                for name, result in documents:
                    offset, size = int(result["offset"]), int(result["size"])
                    for _ in iter_chunks(stream, offset - position):
                        pass  # a gap: a document of this pack listed on another page
                    writer.begin(name, STORED, int(result["crc"]), size, size)
                    for chunk in iter_chunks(stream, size):
                        writer.write(chunk)
                    position = offset + size

    def _copy_object(self, writer: ZipWriter, name: str, result: dict[str, Any]) -> None:
        """A document stored as its own object (PDF, or a DOCX rendered before packs)."""
        size = int(result["size"])
        if "crc" in result:
            writer.begin(name, STORED, int(result["crc"]), size, size)
            self._storage.copy_object_to(result["key"], _Forward(writer))  # type: ignore[arg-type]
            return
        with self._storage.open_range(result["key"], 0, size) as stream:
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
