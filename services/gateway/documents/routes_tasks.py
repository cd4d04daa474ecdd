"""Seed 000's batch tasks: create, start, pause, resume, cancel, progress, ZIP download."""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.storage import Storage
from libs.tasks import store
from libs.tasks.kinds import DOCUMENTS
from libs.tasks.model import Task
from services.gateway.auth.repository import Principal
from services.gateway.documents import repository as repo
from services.gateway.documents.dto import CreateBatchTaskBody, CreateBatchTaskRequest
from services.gateway.documents.envelope import ok
from services.gateway.documents.presenters import progress_view
from services.gateway.documents.routes_uploads import template_not_found
from services.gateway.documents.schemas import (
    BatchCancelledResponse,
    BatchCreatedResponse,
    BatchPausedResponse,
    BatchProgressResponse,
    BatchResumedResponse,
    BatchStartedResponse,
)
from services.gateway.downloads import redirect_to_stored
from services.gateway.errors import ApiError
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.instances import format_available
from services.gateway.openapi import documented, redirect_errors
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.commands import TaskCommands
from services.gateway.tasks.presenters import iso

MAX_DOCUMENTS = DOCUMENTS.max_items
MAX_REPORTED_PROBLEMS = 20
# Rough per-document cost on one renderer, for the creation estimate only.
SECONDS_PER_DOCUMENT = {"docx": 0.05, "pdf": 0.2}


async def _rows(db: AsyncEngine, storage: Storage, principal: Principal,
                body: CreateBatchTaskRequest) -> list[dict[str, Any]]:
    if body.data:
        return body.data
    if body.data_source_id is None:
        raise ApiError(400, "VALIDATION_ERROR", "data: give rows in `data` or a `dataSourceId`",
                       [{"field": "data", "message": "At least one row is required"}])
    async with db.connect() as conn:
        found = await repo.get_data_sources(conn, principal.tenant_id, body.data_source_id)
    if not found:
        raise ApiError(404, "DATA_SOURCE_NOT_FOUND",
                       f"data source {body.data_source_id} does not exist",
                       [{"field": "dataSourceId", "message": "does not exist"}])
    raw = await storage.get_bytes(found[0].object_key, 64 * 1024 * 1024)
    return msgspec.json.decode(raw, type=list[dict[str, Any]])


def _check_fields(templates: list[repo.Template], rows: list[dict[str, Any]]) -> None:
    """Every row must carry every field its templates use: refused up front, not per item."""
    problems = []
    for template in templates:
        for index, row in enumerate(rows):
            for field in template.fields:
                if field not in row:
                    problems.append({"field": f"data[{index}].{field}",
                                     "message": f"required by template {template.id} "
                                                f"({template.name})"})
    if problems:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"{len(problems)} missing field(s), first: {problems[0]['field']}",
                       problems[:MAX_REPORTED_PROBLEMS])


async def _load(db: AsyncEngine, commands: TaskCommands, principal: Principal,
                task_id: str) -> Task:
    async with db.connect() as conn:
        task = await commands.load(conn, principal, task_id)
    if task.kind != DOCUMENTS.name:
        raise ApiError(404, "TASK_NOT_FOUND", f"task {task_id} is not a document batch")
    return task


async def _control(command: Callable[[Principal, str], Awaitable[Task]], db: AsyncEngine,
                   commands: TaskCommands, principal: Principal, task_id: str) -> Task:
    """A user command on a document batch (404 for a task of another kind)."""
    await _load(db, commands, principal, task_id)
    return await command(principal, task_id)


class BatchTaskController(Controller):
    path = "/api/v2/batch/tasks"
    tags = ["documents"]

    @post("/", status_code=200, summary="Create a batch: templates x rows -> documents",
          responses=documented(BatchCreatedResponse, errors=(404, 409, 503)),
          opt=IDEMPOTENT_CREATE)
    async def create(self, request: Request[Any, Any, Any], data: CreateBatchTaskBody,
                     principal: Principal, db: AsyncEngine, storage: Storage,
                     commands: TaskCommands) -> dict[str, Any]:
        rows = await _rows(db, storage, principal, data)
        if len(rows) * len(data.template_ids) > MAX_DOCUMENTS:
            raise ApiError(400, "VALIDATION_ERROR",
                           f"data: at most {MAX_DOCUMENTS} documents per task",
                           [{"field": "data", "message": f"rows x templates > {MAX_DOCUMENTS}"}])
        async with db.connect() as conn:
            found = {t.id: t for t in await repo.get_templates(conn, principal.tenant_id,
                                                               data.template_ids)}
            pdf_ok = data.output_format != "pdf" or await format_available(
                conn, "docrender", "pdf")
        for template_id in data.template_ids:
            if template_id not in found:
                raise template_not_found(template_id)
        templates = [found[t] for t in dict.fromkeys(data.template_ids)]
        for template in templates:
            if not await storage.exists(template.object_key):
                raise ApiError(409, "TEMPLATE_FILE_MISSING",
                               f"the file of template {template.id} ({template.name}) is no "
                               "longer stored; upload the template again",
                               [{"field": "templateIds", "message": template.id}])
        _check_fields(templates, rows)
        if not pdf_ok:
            raise ApiError(503, "RENDERER_UNAVAILABLE",
                           "no PDF-capable renderer is online; try docx or retry later")
        options = data.options
        parallel = data.mode == "parallel" or options.parallel_processing
        concurrency = options.concurrency if parallel else 1
        params = {
            "outputFormat": data.output_format, "mode": "parallel" if parallel else "sequential",
            "createZip": options.create_zip, "rowCount": len(rows),
            "dataSourceId": data.data_source_id,
            "templates": {t.id: {"name": t.name, "key": t.object_key, "renderer": t.renderer}
                          for t in templates},
        }
        task = await commands.create(store.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=DOCUMENTS,
            name=data.name or " + ".join(t.name for t in templates),
            items=[store.NewItem({"template_id": t.id, "row_index": i, "row": row}, t.id)
                   for t in templates for i, row in enumerate(rows)],
            params=params, concurrency=concurrency, pack_size=options.batch_size,
            continue_on_error=options.continue_on_error, finalize=options.create_zip,
        ))
        settings: GatewaySettings = request.app.state.settings
        estimate = SECONDS_PER_DOCUMENT[data.output_format] * task.total / min(concurrency, 2)
        return ok(request, {
            "taskId": task.id,
            "status": task.status.value,
            "estimatedTime": max(1, round(estimate)),
            "estimatedDocumentCount": task.total,
            "items": [{"templateId": t.id, "templateName": t.name, "estimatedCount": len(rows)}
                      for t in templates],
            "websocketUrl": f"{settings.ws_url}/v2/stream/{task.id}",
        })

    @post("/{task_id:str}/start", status_code=200, summary="Start a batch",
          responses=documented(BatchStartedResponse, errors=(404,)))
    async def start(self, request: Request[Any, Any, Any], task_id: str, principal: Principal,
                    db: AsyncEngine, commands: TaskCommands) -> dict[str, Any]:
        task = await _control(commands.start, db, commands, principal, task_id)
        return ok(request, {"taskId": task.id, "status": task.status.value,
                            "startedAt": iso(task.started_at)})

    @post("/{task_id:str}/pause", status_code=200, summary="Pause a batch",
          responses=documented(BatchPausedResponse, errors=(404,)))
    async def pause(self, request: Request[Any, Any, Any], task_id: str, principal: Principal,
                    db: AsyncEngine, commands: TaskCommands) -> dict[str, Any]:
        task = await _control(commands.pause, db, commands, principal, task_id)
        return ok(request, {"taskId": task.id, "status": task.status.value,
                            "pausedAt": iso(task.paused_at)})

    @post("/{task_id:str}/resume", status_code=200, summary="Resume a batch",
          responses=documented(BatchResumedResponse, errors=(404,)))
    async def resume(self, request: Request[Any, Any, Any], task_id: str, principal: Principal,
                     db: AsyncEngine, commands: TaskCommands) -> dict[str, Any]:
        task = await _control(commands.resume, db, commands, principal, task_id)
        return ok(request, {"taskId": task.id, "status": task.status.value,
                            "resumedAt": iso(task.updated_at)})

    @post("/{task_id:str}/cancel", status_code=200, summary="Cancel a batch",
          responses=documented(BatchCancelledResponse, errors=(404,)))
    async def cancel(self, request: Request[Any, Any, Any], task_id: str, principal: Principal,
                     db: AsyncEngine, commands: TaskCommands) -> dict[str, Any]:
        task = await _control(commands.cancel, db, commands, principal, task_id)
        return ok(request, {"taskId": task.id, "status": task.status.value,
                            "cancelledAt": iso(task.completed_at),
                            "completedDocuments": task.done,
                            "message": f"任务已取消，已生成{task.done}个文档"})

    @get("/{task_id:str}/progress", summary="Progress per template, ETA, ZIP readiness",
         responses=documented(BatchProgressResponse, errors=(404,)))
    async def progress(self, request: Request[Any, Any, Any], task_id: str,
                       principal: Principal, db: AsyncEngine,
                       commands: TaskCommands) -> dict[str, Any]:
        task = await _load(db, commands, principal, task_id)
        async with db.connect() as conn:
            counts = await store.group_counts(conn, task.id)
        return ok(request, progress_view(task, task.params["templates"], counts))

    @get("/{task_id:str}/download/zip", status_code=302,
         summary="Redirects to a short-lived presigned URL of the batch's ZIP",
         responses=redirect_errors(404, 409, 410))
    async def download_zip(self, task_id: str, principal: Principal, db: AsyncEngine,
                           storage: Storage, commands: TaskCommands) -> Redirect:
        task = await _load(db, commands, principal, task_id)
        key = task.result.get("zipKey")
        if not key:
            reason = ("createZip was false for this task" if not task.params.get("createZip")
                      else f"the task is {task.status.value} and has no ZIP yet")
            raise ApiError(409, "DOWNLOAD_FAILED", f"no ZIP to download: {reason}")
        return await redirect_to_stored(
            storage, key, gone_code="ZIP_GONE", filename=f"batch_{task.id}.zip",
            gone_message=f"the ZIP of batch {task.id} is no longer stored; create the batch "
                         "again")
