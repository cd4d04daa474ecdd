"""The document-batch API: batches (create, start, pause, resume, cancel, progress, ZIP
download), and the templates and data sources they render from."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from libs.storage import Storage
from services.gateway.auth.repository import Principal
from services.gateway.documents.dto import CreateBatchTaskBody, Multipart, UploadForm
from services.gateway.documents.presenters import (
    cancelled_view,
    command_view,
    data_source_view,
    ok,
    progress_view,
    template_view,
)
from services.gateway.documents.schemas import (
    BatchCancelledResponse,
    BatchCreatedResponse,
    BatchPausedResponse,
    BatchProgressResponse,
    BatchResumedResponse,
    BatchStartedResponse,
    DataSourceDeletedResponse,
    DataSourceListResponse,
    DataSourceResponse,
    TemplateDeletedResponse,
    TemplateListResponse,
    TemplateResponse,
)
from services.gateway.documents.service import Action, DocumentService, Upload
from services.gateway.downloads import redirect_to_stored
from services.gateway.errors import ApiError, validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented, redirect_errors
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.service import TaskService

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
MAX_DATA_BYTES = 20 * 1024 * 1024
# Rough per-document cost on one renderer, for the creation estimate only.
SECONDS_PER_DOCUMENT = {"docx": 0.05, "pdf": 0.2}
_ID = msgspec.json.Decoder(Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")])

Req = Request[Any, Any, Any]


async def _upload(form: UploadForm, max_bytes: int) -> Upload:
    content = await form.file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"file: larger than {max_bytes} bytes")
    if not content:
        raise validation_error("file", "empty file")
    chosen = None
    if form.id is not None:
        try:
            chosen = str(_ID.decode(msgspec.json.encode(form.id)))
        except msgspec.ValidationError:
            raise validation_error("id", "1-64 letters, digits, '_', '.' or '-'") from None
    name = (form.name or form.file.filename or "untitled").strip()
    if len(name) > 255:
        raise validation_error("name", "at most 255 characters")
    return Upload(content=content, filename=form.file.filename or "", name=name,
                  chosen_id=chosen)


class BatchTaskController(Controller):
    path = "/api/v2/batch/tasks"
    tags = ["documents"]

    @post("/", status_code=200, summary="Create a batch: templates x rows -> documents",
          responses=documented(BatchCreatedResponse, errors=(404, 503)),
          opt=IDEMPOTENT_CREATE)
    async def create(self, request: Req, data: CreateBatchTaskBody, principal: Principal,
                     document_service: DocumentService,
                     settings: GatewaySettings) -> dict[str, Any]:
        created = await document_service.create(principal, data)
        task = created.task
        estimate = SECONDS_PER_DOCUMENT[data.output_format] * task.total / min(
            task.concurrency, 2)
        return ok(request, {
            "taskId": task.id,
            "status": task.status.value,
            "estimatedTime": max(1, round(estimate)),
            "estimatedDocumentCount": task.total,
            "items": [{"templateId": t.id, "templateName": t.name,
                       "estimatedCount": created.rows} for t in created.templates],
            "websocketUrl": f"{settings.ws_url}/v2/stream/{task.id}",
        })

    @get("/{task_id:str}/progress", summary="Progress per template, ETA, ZIP readiness",
         responses=documented(BatchProgressResponse, errors=(404,)))
    async def progress(self, request: Req, task_id: str, principal: Principal,
                       document_service: DocumentService,
                       task_service: TaskService) -> dict[str, Any]:
        task, counts = await document_service.progress(principal, task_id)
        return ok(request, progress_view(task, task.params["templates"], counts,
                                         await task_service.queue_position(task)))

    @get("/{task_id:str}/download/zip", status_code=302,
         summary="Redirects to a short-lived presigned URL of the batch's ZIP",
         responses=redirect_errors(404, 409, 410))
    async def download_zip(self, task_id: str, principal: Principal, storage: Storage,
                           document_service: DocumentService) -> Redirect:
        task = await document_service.get(principal, task_id)
        key = task.result.get("zipKey")
        if not key:
            reason = ("createZip was false for this task" if not task.params.get("createZip")
                      else f"the task is {task.status.value} and has no ZIP yet")
            raise ApiError(409, "DOWNLOAD_FAILED", f"no ZIP to download: {reason}")
        return await redirect_to_stored(
            storage, key, gone_code="ZIP_GONE", filename=f"batch_{task.id}.zip",
            gone_message=f"the ZIP of batch {task.id} is no longer stored; create the batch "
                         "again")


def _command(action: Action, response: type, summary: str,
             at_field: str | None = None) -> HTTPRouteHandler:
    """`POST /api/v2/batch/tasks/{task_id}/<action>`: start, pause, resume or cancel a batch."""

    async def command(request: Req, task_id: str, principal: Principal,
                      document_service: DocumentService) -> dict[str, Any]:
        task = await document_service.command(action, principal, task_id)
        return ok(request, command_view(task, at_field) if at_field else cancelled_view(task))

    command.__name__ = command.__qualname__ = action  # its name in the OpenAPI document
    return post(f"/api/v2/batch/tasks/{{task_id:str}}/{action}", status_code=200,
                summary=summary, tags=["documents"],
                responses=documented(response, errors=(404,)))(command)


BATCH_COMMANDS = [
    _command("start", BatchStartedResponse, "Start a batch", "startedAt"),
    _command("pause", BatchPausedResponse, "Pause a batch", "pausedAt"),
    _command("resume", BatchResumedResponse, "Resume a batch", "resumedAt"),
    _command("cancel", BatchCancelledResponse, "Cancel a batch"),
]


class TemplateController(Controller):
    path = "/api/v2/templates"
    tags = ["documents"]

    @post("/", status_code=201, summary="Upload a DOCX template (multipart: file, name, id)",
          responses=documented(TemplateResponse, 201, errors=(409, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, request: Req, data: Multipart, principal: Principal,
                     document_service: DocumentService) -> dict[str, Any]:
        upload = await _upload(data, MAX_TEMPLATE_BYTES)
        return ok(request, template_view(await document_service.add_template(principal,
                                                                              upload)))

    @get("/", summary="List templates", responses=documented(TemplateListResponse))
    async def list_templates(self, request: Req, principal: Principal,
                             document_service: DocumentService) -> dict[str, Any]:
        return ok(request, [template_view(t) for t in await document_service.templates(
            principal)])

    @get("/{template_id:str}", summary="A template and the fields it uses",
         responses=documented(TemplateResponse, errors=(404,)))
    async def get_template(self, request: Req, template_id: str, principal: Principal,
                           document_service: DocumentService) -> dict[str, Any]:
        (template,) = await document_service.templates(principal, [template_id])
        return ok(request, template_view(template))

    @delete("/{template_id:str}", status_code=200, summary="Delete a template",
            responses=documented(TemplateDeletedResponse, errors=(404, 409)))
    async def delete_template(self, request: Req, template_id: str, principal: Principal,
                              document_service: DocumentService) -> dict[str, Any]:
        await document_service.delete_template(principal, template_id)
        return ok(request, {"templateId": template_id, "deleted": True})


class DataSourceController(Controller):
    path = "/api/v2/data-sources"
    tags = ["documents"]

    @post("/", status_code=201, summary="Upload rows: CSV, XLSX or JSON (multipart)",
          responses=documented(DataSourceResponse, 201, errors=(409, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, request: Req, data: Multipart, principal: Principal,
                     document_service: DocumentService) -> dict[str, Any]:
        upload = await _upload(data, MAX_DATA_BYTES)
        return ok(request, data_source_view(await document_service.add_data_source(
            principal, upload)))

    @get("/", summary="List data sources", responses=documented(DataSourceListResponse))
    async def list_sources(self, request: Req, principal: Principal,
                           document_service: DocumentService) -> dict[str, Any]:
        return ok(request, [data_source_view(s) for s in await document_service.data_sources(
            principal)])

    @get("/{source_id:str}", summary="A data source",
         responses=documented(DataSourceResponse, errors=(404,)))
    async def get_source(self, request: Req, source_id: str, principal: Principal,
                         document_service: DocumentService) -> dict[str, Any]:
        (source,) = await document_service.data_sources(principal, source_id)
        return ok(request, data_source_view(source))

    @delete("/{source_id:str}", status_code=200, summary="Delete a data source",
            responses=documented(DataSourceDeletedResponse, errors=(404,)))
    async def delete_source(self, request: Req, source_id: str, principal: Principal,
                            document_service: DocumentService) -> dict[str, Any]:
        await document_service.delete_data_source(principal, source_id)
        return ok(request, {"dataSourceId": source_id, "deleted": True})


DOCUMENT_HANDLERS = [BatchTaskController, *BATCH_COMMANDS, TemplateController,
                     DataSourceController]
