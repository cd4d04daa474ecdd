"""The document-batch use cases: create a batch from templates x rows, control and read it,
and manage the templates and data sources it renders from. The only place this area opens
database connections and transactions; routes parse and present."""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.docxfast.choice import DOCXTPL, RendererChoice
from libs.docxfast.merge_safety import SINGLE, PdfModeChoice
from libs.heap import release_free_memory
from libs.sandbox import ResourceLimitExceeded
from libs.storage import Storage
from libs.tasks import creation, readers
from libs.tasks.kinds import DOCUMENTS
from libs.tasks.model import Task, utcnow
from proto.documents import DocumentParams, DocumentPayload, TemplateRef
from services.gateway.auth.repository import Principal
from services.gateway.documents import repository as repo
from services.gateway.documents.dto import CreateBatchTaskRequest, RowRange
from services.gateway.documents.sandboxes import UploadSandboxes
from services.gateway.documents.uploads import (
    MAX_SOURCE_BYTES,
    BadUpload,
    ParsedSource,
    read_data_source,
    template_fields,
    template_pdf_mode,
    template_renderer,
)
from services.gateway.errors import (
    ApiError,
    data_source_not_found,
    task_not_found,
    template_not_found,
)
from services.gateway.health.repository import format_available
from services.gateway.tasks.service import TaskService

MAX_DOCUMENTS = DOCUMENTS.max_items
Action = Literal["start", "pause", "resume", "cancel"]
MAX_REPORTED_PROBLEMS = 20
LARGE_UPLOAD_BYTES = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True, slots=True)
class CreatedBatch:
    task: Task
    templates: list[repo.Template]
    rows: int


@dataclass(frozen=True, slots=True)
class Upload:
    """A file from a multipart form: its bytes, the id and name the caller chose."""

    content: bytes
    filename: str
    name: str
    chosen_id: str | None


def _check_fields(templates: list[repo.Template], rows: list[dict[str, Any]],
                  source: str) -> None:
    """Every row must carry every field its templates use: refused up front, not per item, in
    one line that names the columns to add ("rows.csv lacks amount, city"). The code and the
    details are seed 000's: VALIDATION_ERROR, one entry per row and field (`data[3].amount`,
    with the template that uses it)."""
    problems = [{"field": f"data[{index}].{field}",
                 "message": f"required by template {template.id} ({template.name})"}
                for template in templates for index, row in enumerate(rows)
                for field in template.fields if field not in row]
    if problems:
        names = sorted({str(p["field"]).split(".", 1)[1] for p in problems})
        raise ApiError(400, "VALIDATION_ERROR", f"{source} lacks {', '.join(names)}",
                       problems[:MAX_REPORTED_PROBLEMS])


def _in_range(rows: list[dict[str, Any]],
              wanted: RowRange | None) -> list[tuple[int, dict[str, Any]]]:
    """The rows a batch renders, each with its index in the source (1-based range, inclusive:
    the row numbers a person sees in a spreadsheet below its header)."""
    if wanted is None:
        return list(enumerate(rows))
    if wanted.first > len(rows):
        raise ApiError(400, "VALIDATION_ERROR",
                       f"rowRange: the source has {len(rows)} rows, the range starts at "
                       f"{wanted.first}", [{"field": "rowRange.first",
                                            "message": f"at most {len(rows)}"}])
    if wanted.last is not None and wanted.last < wanted.first:
        raise ApiError(400, "VALIDATION_ERROR", "rowRange: last comes before first",
                       [{"field": "rowRange.last", "message": f"at least {wanted.first}"}])
    end = len(rows) if wanted.last is None else min(wanted.last, len(rows))
    return [(index, rows[index]) for index in range(wanted.first - 1, end)]


def _new_id(upload: Upload, prefix: str) -> str:
    return upload.chosen_id or f"{prefix}_{secrets.token_hex(6)}"


class DocumentService:
    def __init__(self, db: AsyncEngine, storage: Storage, task_service: TaskService,
                 sandboxes: UploadSandboxes) -> None:
        self._db = db
        self._storage = storage
        self._tasks = task_service
        self._sandboxes = sandboxes  # where uploads are checked and read

    # --- batches --------------------------------------------------------------------------

    async def _rows(self, principal: Principal,
                    body: CreateBatchTaskRequest) -> tuple[list[dict[str, Any]], str]:
        """The rows, and what to call where they came from in an error."""
        if body.data:
            return body.data, "the rows"
        if body.data_source_id is None:
            raise ApiError(400, "VALIDATION_ERROR",
                           "data: give rows in `data` or a `dataSourceId`",
                           [{"field": "data", "message": "At least one row is required"}])
        async with self._db.connect() as conn:
            found = await repo.get_data_sources(conn, principal.tenant_id, body.data_source_id)
        if not found:
            raise data_source_not_found(body.data_source_id, field="dataSourceId")
        raw = await self._storage.get_bytes(found[0].object_key, MAX_SOURCE_BYTES)
        return msgspec.json.decode(raw, type=list[dict[str, Any]]), found[0].name

    async def _templates(self, principal: Principal, ids: list[str], *,
                         pdf: bool) -> tuple[list[repo.Template], bool]:
        """The templates (each stored), and whether the renderer the batch needs is online."""
        async with self._db.connect() as conn:
            found = {t.id: t for t in await repo.get_templates(conn, principal.tenant_id, ids)}
            pdf_ok = not pdf or await format_available(conn, "docrender", "pdf")
        for template_id in ids:
            if template_id not in found:
                raise template_not_found(template_id)
        templates = [found[t] for t in dict.fromkeys(ids)]
        for template in templates:
            if not await self._storage.exists(template.object_key):
                raise ApiError(409, "TEMPLATE_FILE_MISSING",
                               f"the file of template {template.id} ({template.name}) is no "
                               "longer stored; upload the template again",
                               [{"field": "templateIds", "message": template.id}])
        return templates, pdf_ok

    async def create(self, principal: Principal, data: CreateBatchTaskRequest) -> CreatedBatch:
        source_rows, source = await self._rows(principal, data)
        rows = _in_range(source_rows, data.row_range)
        if len(rows) * len(data.template_ids) > MAX_DOCUMENTS:
            raise ApiError(400, "VALIDATION_ERROR",
                           f"data: at most {MAX_DOCUMENTS} documents per task",
                           [{"field": "data", "message": f"rows x templates > {MAX_DOCUMENTS}"}])
        templates, renderer_online = await self._templates(
            principal, data.template_ids, pdf=data.output_format == "pdf")
        _check_fields(templates, [row for _, row in rows], source)
        if not renderer_online:
            raise ApiError(503, "RENDERER_UNAVAILABLE",
                           "no PDF-capable renderer is online; try docx or retry later")
        options = data.options
        parallel = data.mode == "parallel" or options.parallel_processing
        params = DocumentParams(
            output_format=data.output_format, mode="parallel" if parallel else "sequential",
            create_zip=options.create_zip, row_count=len(rows),
            data_source_id=data.data_source_id,
            templates={t.id: TemplateRef(name=t.name, key=t.object_key, renderer=t.renderer,
                                         pdf_mode=t.pdf_mode)
                       for t in templates},
        )
        task = await self._tasks.create(creation.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=DOCUMENTS,
            name=data.name or " + ".join(t.name for t in templates),
            items=[creation.NewItem(msgspec.to_builtins(
                       DocumentPayload(template_id=t.id, row_index=i, row=row)), t.id)
                   for t in templates for i, row in rows],
            # `concurrency` work messages of `batchSize` documents in flight: the engine's window
            # counts documents. Sequential stays one document at a time, in order.
            params=msgspec.to_builtins(params),
            concurrency=options.concurrency * options.batch_size if parallel else 1,
            pack_size=options.batch_size, continue_on_error=options.continue_on_error,
            finalize=options.create_zip,
        ))
        return CreatedBatch(task, templates, len(rows))

    async def get(self, principal: Principal, task_id: str) -> Task:
        return await self._tasks.get(principal, task_id, kind=DOCUMENTS.name,
                                     not_found=task_not_found)

    async def command(self, action: Action, principal: Principal, task_id: str) -> Task:
        """A user command on a document batch (404 for a task of another kind)."""
        run = {"start": self._tasks.start, "pause": self._tasks.pause,
               "resume": self._tasks.resume, "cancel": self._tasks.cancel}[action]
        return await run(principal, task_id, DOCUMENTS.name)

    async def progress(self, principal: Principal,
                       task_id: str) -> tuple[Task, dict[str, dict[str, int]]]:
        async with self._db.connect() as conn:
            task = await TaskService.load(conn, principal, task_id, kind=DOCUMENTS.name)
            return task, await readers.group_counts(conn, task.id)

    # --- templates and data sources -------------------------------------------------------

    async def _store_then_record(
        self, key: str, content: bytes, content_type: str,
        record: Callable[[AsyncConnection], Awaitable[None]], what: str, object_id: str,
    ) -> None:
        """Object first, then its row: a row never points at a missing object, and an object
        whose row could not be written (the id is taken: 409 `<WHAT>_EXISTS`) is removed."""
        await self._storage.put_bytes(key, content, content_type)
        try:
            async with self._db.begin() as conn:
                await record(conn)
        except repo.AlreadyExists:
            await self._storage.delete_keys([key])
            raise ApiError(409, f"{what.upper().replace(' ', '_')}_EXISTS",
                           f"{what} {object_id} already exists",
                           [{"field": "id", "message": "already exists"}]) from None

    async def add_template(self, principal: Principal, upload: Upload) -> repo.Template:
        template_id = _new_id(upload, "tpl")
        # Compiling a template evaluates its constant expressions ({{ "x" * 10**9 }}) and the
        # renderer choice renders it once: both run in the gateway's sandbox processes, under
        # their memory and CPU limits and the tenant's share of them, never in the gateway.
        sandbox, tenant = self._sandboxes.templates, principal.tenant_id
        try:
            fields = await sandbox.run(tenant, template_fields, upload.content)
        except (BadUpload, ResourceLimitExceeded) as exc:
            raise ApiError(400, "INVALID_TEMPLATE", str(exc),
                           [{"field": "file", "message": str(exc)}]) from exc
        try:
            choice = await sandbox.run(tenant, template_renderer, upload.content)
        except ResourceLimitExceeded as exc:
            # Its rows will render under the render limits, and fail there if they exceed them.
            choice = RendererChoice(DOCXTPL, f"the probe render stopped: {exc}")
        try:
            pdf_mode = await sandbox.run(tenant, template_pdf_mode, upload.content,
                                         choice.renderer)
        except ResourceLimitExceeded as exc:
            pdf_mode = PdfModeChoice(SINGLE, f"the merge-safety check stopped: {exc}")
        key = f"templates/{principal.tenant_id}/{template_id}-{secrets.token_hex(4)}.docx"
        template = repo.Template(id=template_id, name=upload.name,
                                 filename=upload.filename or "template.docx", object_key=key,
                                 size_bytes=len(upload.content), fields=fields,
                                 created_at=utcnow(), renderer=choice.renderer,
                                 renderer_reason=choice.reason, pdf_mode=pdf_mode.mode,
                                 pdf_mode_reason=pdf_mode.reason)
        await self._store_then_record(key, upload.content, DOCX_TYPE, partial(
            repo.insert_template, tenant_id=principal.tenant_id, user_id=principal.user_id,
            template=template), "template", template_id)
        return template

    async def templates(self, principal: Principal,
                        ids: list[str] | None = None) -> list[repo.Template]:
        async with self._db.connect() as conn:
            found = await repo.get_templates(conn, principal.tenant_id, ids)
        if ids and not found:
            raise template_not_found(ids[0])
        return found

    async def delete_template(self, principal: Principal, template_id: str) -> None:
        async with self._db.begin() as conn:
            if await repo.template_in_use(conn, principal.tenant_id, template_id):
                raise ApiError(409, "TEMPLATE_IN_USE",
                               f"template {template_id} is used by an unfinished task")
            key = await repo.delete_template(conn, principal.tenant_id, template_id)
        if key is None:
            raise template_not_found(template_id)
        await self._storage.delete_keys([key])

    async def _read_data_source(self, principal: Principal, upload: Upload) -> ParsedSource:
        try:
            return await self._sandboxes.data_sources.run(
                principal.tenant_id, read_data_source, upload.content, upload.filename)
        finally:
            if len(upload.content) > LARGE_UPLOAD_BYTES:
                # The body and its copies for the sandbox were several MB each: what they left
                # in the heap goes back now, not at some later peak (libs/heap.py).
                release_free_memory()

    async def add_data_source(self, principal: Principal, upload: Upload) -> repo.DataSource:
        source_id = _new_id(upload, "ds")
        try:
            parsed = await self._read_data_source(principal, upload)
        except BadUpload as exc:
            raise ApiError(400, "VALIDATION_ERROR", str(exc),
                           [{"field": "file", "message": str(exc)}]) from exc
        except ResourceLimitExceeded as exc:
            raise ApiError(400, "VALIDATION_ERROR", f"file: too large to read ({exc})",
                           [{"field": "file", "message": str(exc)}]) from exc
        key = f"datasources/{principal.tenant_id}/{source_id}-{secrets.token_hex(4)}.json"
        source = repo.DataSource(id=source_id, name=upload.name, format=parsed.format,
                                 object_key=key, row_count=parsed.row_count,
                                 columns=parsed.columns, created_at=utcnow())
        await self._store_then_record(key, parsed.rows_json, "application/json", partial(
            repo.insert_data_source, tenant_id=principal.tenant_id, user_id=principal.user_id,
            source=source), "data source", source_id)
        return source

    async def data_sources(self, principal: Principal,
                           source_id: str | None = None) -> list[repo.DataSource]:
        async with self._db.connect() as conn:
            found = await repo.get_data_sources(conn, principal.tenant_id, source_id)
        if source_id is not None and not found:
            raise data_source_not_found(source_id)
        return found

    async def delete_data_source(self, principal: Principal, source_id: str) -> None:
        async with self._db.begin() as conn:
            key = await repo.delete_data_source(conn, principal.tenant_id, source_id)
        if key is None:
            raise data_source_not_found(source_id)
        await self._storage.delete_keys([key])
