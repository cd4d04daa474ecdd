"""The `documents` finalize step: one ZIP of the batch, streamed from the bucket back into the
bucket (a writer thread feeds a pipe that the upload reads), so memory stays flat however
large the batch. A manifest maps every row to its file or its error. The documents are checked
first: a ZIP is only made of documents that exist."""

import asyncio
import json
import os
import threading
import zipfile
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import ArtifactsMissing
from libs.storage import ObjectMissing, Storage, task_prefix
from libs.worker.handler import FinalizeContext
from services.docrender.lineage import Entry, batch_entries
from services.docrender.naming import zip_key


class ZipPackager:
    def __init__(self, db: AsyncEngine, storage: Storage) -> None:
        self._db = db
        self._storage = storage

    async def __call__(self, ctx: FinalizeContext) -> dict[str, Any]:
        async with self._db.connect() as conn:
            entries = await batch_entries(conn, ctx.task_id, ctx.tenant_id)
        done = [e for e in entries if e.key]
        await self._verify(ctx.task_id, done)
        key = zip_key(ctx.task_id)
        size = await self._build(key, done, _manifest(ctx.params, entries))
        return {"zipKey": key, "zipSize": size, "documents": len(done),
                "failed": len(entries) - len(done)}

    async def _verify(self, task_id: str, done: list[Entry]) -> None:
        """A document reported done may be gone from the bucket (an endpoint that lost its
        data): packing would fail half-way or, worse, ship a ZIP without it. Those items fail
        instead, with the task, so retry-failed renders exactly them."""
        keys = [e.key for e in done if e.key]
        missing = set(await self._storage.missing(
            keys, {f"{task_prefix(e.task_id)}docs/" for e in done}))
        if not missing:
            return
        lost = [e.seq for e in done if e.key in missing and e.task_id == task_id]
        raise ArtifactsMissing(
            f"{ObjectMissing.code}: {len(missing)} of {len(done)} documents are no longer "
            "stored; retry-failed renders them again", lost)

    async def _build(self, key: str, done: list[Entry], manifest: list[dict[str, Any]]) -> int:
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def write_zip() -> None:
            try:
                with os.fdopen(write_fd, "wb") as out, zipfile.ZipFile(out, "w") as archive:
                    for document in done:
                        assert document.key is not None and document.file is not None
                        # Already-compressed formats (docx, pdf): stored, not deflated again.
                        with archive.open(document.file, "w") as entry:
                            self._storage.copy_object_to(document.key, entry)
                    archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False,
                                                                 indent=1),
                                     compress_type=zipfile.ZIP_DEFLATED)
            except BaseException as exc:  # reported after the upload returns
                failure.append(exc)

        writer = threading.Thread(target=write_zip, name="zip-writer", daemon=True)
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
        return await self._storage.size(key)


def _manifest(params: dict[str, Any], entries: list[Entry]) -> list[dict[str, Any]]:
    templates = params.get("templates", {})
    return [{"rowIndex": e.row_index, "templateId": e.template_id,
             "templateName": templates.get(e.template_id, {}).get("name"),
             "status": e.status, "file": e.file, "error": e.error} for e in entries]
