"""The `documents` item handler: one (template, row) -> a DOCX (or PDF) in the bucket."""

import asyncio
from collections import OrderedDict
from concurrent.futures import Executor

from libs.errors import Permanent
from libs.office.pool import OfficePool
from libs.storage import Storage
from libs.worker.handler import ItemContext, ItemDone
from services.docrender.naming import CONTENT_TYPES, document_key, zip_entry
from services.docrender.render.docx import TemplateRejected, render_docx

MAX_TEMPLATE_BYTES = 20 * 1024 * 1024


class TemplateCache:
    """Template files by object key, kept while a batch uses them (bounded by total size)."""

    def __init__(self, storage: Storage, max_bytes: int = 128 * 1024 * 1024) -> None:
        self._storage = storage
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    async def get(self, key: str) -> bytes:
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        data = await self._storage.get_bytes(key, MAX_TEMPLATE_BYTES)
        self._entries[key] = data
        self._size += len(data)
        while self._size > self._max_bytes and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted)
        return data


class DocumentRenderer:
    def __init__(self, storage: Storage, templates: TemplateCache, renderers: Executor,
                 office: OfficePool | None) -> None:
        self._storage = storage
        self._templates = templates
        self._renderers = renderers
        self._office = office

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        template_id = str(ctx.payload["template_id"])
        row_index = int(ctx.payload["row_index"])
        template = ctx.params["templates"][template_id]
        fmt = ctx.params["outputFormat"]
        source = await self._templates.get(template["key"])
        loop = asyncio.get_running_loop()
        try:
            data = await loop.run_in_executor(
                self._renderers, render_docx, source, ctx.payload["row"])
        except TemplateRejected as exc:
            raise Permanent(str(exc)) from exc
        if fmt == "pdf":
            if self._office is None:
                raise Permanent("this renderer has no PDF converter (LibreOffice)")
            data = await self._office.to_pdf(data)
        key = document_key(ctx.task_id, template_id, row_index, fmt)
        await self._storage.put_bytes(key, data, CONTENT_TYPES[fmt])
        return ItemDone(
            result={"key": key, "file": zip_entry(template["name"], template_id, row_index, fmt),
                    "size": len(data), "templateId": template_id, "rowIndex": row_index},
            usage={"documents": 1, "bytes": len(data)},
        )
