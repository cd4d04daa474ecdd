"""The `server_batch` item handler: one input file -> one output file through a workflow,
for tasks pinned to this instance (seed 004's local servers). Inputs and outputs are objects
in the bucket named by the item; the output key is fixed per item, so a rerun overwrites."""

import asyncio
from concurrent.futures import Executor

import msgspec

from libs.errors import Permanent
from libs.images import DEFAULT_MAX_SIZE, NotAnImage, thumbnail
from libs.office.pool import OfficePool
from libs.storage import ObjectMissing, Storage
from libs.worker.handler import ItemContext, ItemDone
from libs.workflows import DOCX_TO_PDF, IMAGE_THUMBNAIL, Workflow

MAX_INPUT_BYTES = 100 * 1024 * 1024


class FileWorkflows:
    def __init__(self, storage: Storage, renderers: Executor, office: OfficePool | None) -> None:
        self._storage = storage
        self._renderers = renderers
        self._office = office

    @property
    def available(self) -> dict[str, Workflow]:
        """The built-ins this instance can run (docx-to-pdf needs its LibreOffice pool)."""
        return {w.name: w for w in (DOCX_TO_PDF, IMAGE_THUMBNAIL)
                if w is not DOCX_TO_PDF or self._office is not None}

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        workflow = msgspec.convert(ctx.params["workflow"], Workflow)
        file = ctx.payload["file"]
        await ctx.report_step(f"{workflow.name}: {file}")
        try:
            data = await self._storage.get_bytes(ctx.payload["input_key"], MAX_INPUT_BYTES)
        except ObjectMissing as exc:
            raise Permanent(f"{ObjectMissing.code}: {file} no longer exists") from exc
        except ValueError as exc:  # larger than MAX_INPUT_BYTES
            raise Permanent(str(exc)) from exc
        output = await self._run(workflow.implementation, data, ctx.params.get("options", {}))
        await self._storage.put_bytes(ctx.payload["output_key"], output, workflow.content_type)
        return ItemDone(result={"file": file, "output": ctx.payload["output"],
                                "size": len(output)},
                        usage={"files": 1, "bytes": len(output)})

    async def _run(self, implementation: str, data: bytes, options: dict[str, object]) -> bytes:
        if implementation == DOCX_TO_PDF.name:
            if self._office is None:
                raise Permanent("this instance has no PDF converter (LibreOffice)")
            return await self._office.to_pdf(data)
        if implementation == IMAGE_THUMBNAIL.name:
            max_size = int(str(options.get("max_size", DEFAULT_MAX_SIZE)))
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._renderers, thumbnail, data, max_size)
            except NotAnImage as exc:
                raise Permanent(str(exc)) from exc
        raise Permanent(f"this instance does not run workflow {implementation!r}")
