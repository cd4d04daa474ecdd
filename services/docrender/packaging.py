"""The `documents` finalize step: one ZIP of the batch, streamed from the bucket back into the
bucket (a writer thread feeds a pipe that the upload reads), so memory stays flat however
large the batch. A manifest maps every row to its file or its error."""

import asyncio
import json
import os
import threading
import zipfile
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.storage import Storage
from libs.tasks import readers
from libs.tasks.model import Item
from libs.worker.handler import FinalizeContext
from services.docrender.naming import zip_key

PAGE = 1000


class ZipPackager:
    def __init__(self, db: AsyncEngine, storage: Storage) -> None:
        self._db = db
        self._storage = storage

    async def __call__(self, ctx: FinalizeContext) -> dict[str, Any]:
        items = await self._items(ctx.task_id)
        key = zip_key(ctx.task_id)
        manifest = _manifest(ctx.params, items)
        done = [item for item in items if item.status == "done" and item.result]
        size = await self._build(key, done, manifest)
        return {"zipKey": key, "zipSize": size, "documents": len(done),
                "failed": sum(1 for item in items if item.status == "failed")}

    async def _items(self, task_id: str) -> list[Item]:
        items: list[Item] = []
        async with self._db.connect() as conn:
            while True:
                page = await readers.get_items(conn, task_id, offset=len(items), limit=PAGE)
                items += page
                if len(page) < PAGE:
                    return items

    async def _build(self, key: str, done: list[Item], manifest: list[dict[str, Any]]) -> int:
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def write_zip() -> None:
            try:
                with os.fdopen(write_fd, "wb") as out, zipfile.ZipFile(out, "w") as archive:
                    for item in done:
                        assert item.result is not None
                        # Already-compressed formats (docx, pdf): stored, not deflated again.
                        with archive.open(item.result["file"], "w") as entry:
                            self._storage.copy_object_to(item.result["key"], entry)
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


def _manifest(params: dict[str, Any], items: list[Item]) -> list[dict[str, Any]]:
    templates = params.get("templates", {})
    row_count = max(int(params.get("rowCount", 1)), 1)
    rows = []
    for item in items:
        result = item.result or {}
        template_id = item.group_key or ""
        rows.append({
            "rowIndex": item.seq % row_count,  # items are created template by template
            "templateId": template_id,
            "templateName": templates.get(template_id, {}).get("name"),
            "status": item.status.value,
            "file": result.get("file"),
            "error": item.error,
        })
    return rows
