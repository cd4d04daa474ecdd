"""The `documents` item handler: one (template, row) -> a DOCX (or PDF) in the bucket."""

import asyncio
from collections import OrderedDict
from concurrent.futures import Executor
from typing import Any

from libs.docxfast.choice import DOCXTPL
from libs.docxfast.merge_safety import MERGED
from libs.errors import Permanent
from libs.office.pool import OfficePool
from libs.storage import ObjectMissing, Storage
from libs.worker.handler import ItemContext, ItemDone
from proto.documents import DocumentParams, DocumentPayload, DocumentResult
from services.docrender.batching import DocxBatcher, Packed, PackWriter
from services.docrender.merged import MergedPdf
from services.docrender.naming import zip_entry, zip_folders
from services.docrender.render.docx import render_rows

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
                 processes: int, office: OfficePool | None, office_instances: int = 1) -> None:
        self._storage = storage
        self._templates = templates
        self._renderers = renderers
        self._office = office
        self._batcher = DocxBatcher(storage, renderers, processes)
        self._pdf_packs = PackWriter(storage)
        self._merged = (MergedPdf(storage, renderers, processes, office, office_instances)
                        if office is not None else None)

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        params: DocumentParams = ctx.params
        payload: DocumentPayload = ctx.payload
        template_id, row_index = payload.template_id, payload.row_index
        template = params.templates.get(template_id)
        if template is None:
            raise Permanent(f"template {template_id} is not one of the batch's templates")
        fmt = params.output_format
        # Templates of tasks created before renderers were chosen at upload: docxtpl.
        renderer = template.renderer or DOCXTPL
        try:
            source = await self._templates.get(template.key)
        except ObjectMissing as exc:
            raise Permanent(f"TEMPLATE_FILE_MISSING: the file of template {template_id} is no "
                            "longer stored") from exc
        file = zip_entry(zip_folders(params.templates)[template_id], row_index, fmt)
        # Merged only for templates judged merge-safe at upload (older tasks: one by one).
        if fmt == "pdf" and self._merged is not None and template.pdf_mode == MERGED:
            packed = await self._merged.render(ctx.task_id, template.key, source, renderer,
                                               payload.row)
        elif fmt == "pdf":
            packed = await self._pdf(ctx.task_id, template.key, source, renderer, payload.row)
        else:
            packed = await self._batcher.render(ctx.task_id, template.key, source, renderer,
                                                payload.row)
        return ItemDone(
            result=DocumentResult(pack=packed.pack, offset=packed.offset, size=packed.length,
                                  crc=packed.crc, file=file, template_id=template_id,
                                  row_index=row_index),
            usage={"documents": 1, "bytes": packed.length},
        )

    async def _pdf(self, task_id: str, key: str, source: bytes, renderer: str,
                   row: dict[str, Any]) -> Packed:
        if self._office is None:
            raise Permanent("this renderer has no PDF converter (LibreOffice)")
        loop = asyncio.get_running_loop()
        with self._pdf_packs.producing(task_id):
            [rendered] = await loop.run_in_executor(self._renderers, render_rows, key, source,
                                                    renderer, [row])
            if rendered.rejected is not None:
                raise Permanent(rendered.rejected)
            if rendered.data is None:
                raise RuntimeError(rendered.error)
            pdf = await self._office.to_pdf(rendered.data)
            return await self._pdf_packs.store(task_id, pdf)
