"""Seed 003's sync-task API: create, list, details, cancel, retry-failed. A sync task is a
`kb_sync` task of the engine with one item per document."""

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.tasks import store
from libs.tasks.kinds import KB_SYNC
from libs.tasks.model import Task, TaskStatus
from services.gateway.auth.repository import Principal
from services.gateway.errors import validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.kb import errors, ids, presenters
from services.gateway.kb import repository as repo
from services.gateway.kb.access import exclusivity_key, load_kb, load_sync_task
from services.gateway.kb.dto import CreateSyncBody
from services.gateway.kb.schemas import (
    SyncCancelledResponse,
    SyncCreatedResponse,
    SyncRetryCreatedResponse,
    SyncTaskDetailsResponse,
    SyncTaskListResponse,
)
from services.gateway.openapi import documented
from services.gateway.tasks.commands import TaskCommands
from services.gateway.tasks.presenters import iso

ListLimit = Annotated[int, Parameter(ge=1, le=50)]


async def create_sync_task(commands: TaskCommands, principal: Principal, kb_id: str,
                           task_type: str, documents: list[tuple[str, str]],
                           parent_task_id: str | None = None) -> Task:
    try:
        return await commands.create(store.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=KB_SYNC,
            name=f"{task_type} {ids.public(ids.KB, kb_id)}",
            items=[store.NewItem({"document_id": doc_id, "filename": filename}, group_key=doc_id)
                   for doc_id, filename in documents],
            # total_documents: workers show "(i/n)" in current_step.
            params={"kb_id": kb_id, "task_type": task_type, "total_documents": len(documents)},
            autostart=True, exclusivity_key=exclusivity_key(kb_id),
            parent_task_id=parent_task_id,
        ))
    except store.ExclusivityConflict as exc:
        raise errors.sync_running(exc.holder_task_id) from None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class KnowledgeBaseSyncController(Controller):
    path = "/api/v1/knowledge-bases/{kb_id:str}"
    tags = ["sync tasks"]

    @post("/sync", status_code=200, summary="Create a sync task (full_sync or incremental)",
          responses=documented(SyncCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def create(self, kb_id: str, data: CreateSyncBody, db: AsyncEngine,
                     principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        if data.task_type == "incremental" and not data.document_ids:
            raise validation_error("document_ids", "incremental syncs the listed documents: "
                                   "list at least one (or use full_sync)")
        if data.task_type == "full_sync" and data.document_ids:
            raise validation_error("document_ids", "full_sync syncs every uploaded document: "
                                   "leave it empty (or use incremental)")
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
            if data.task_type == "full_sync":
                documents = await repo.documents_for_sync(conn, kb.id, None)
                if not documents:
                    raise errors.nothing_to_sync(kb_id)
            else:
                given = _unique(data.document_ids)
                parsed = {value: ids.parse(ids.DOC, value) for value in given}
                wanted = _unique([raw for raw in parsed.values() if raw])
                documents = await repo.documents_for_sync(conn, kb.id, wanted)
                found = {doc_id for doc_id, _ in documents}
                not_found = [value for value, raw in parsed.items() if raw not in found]
                if not_found:
                    raise errors.documents_not_found(not_found)
        task = await create_sync_task(commands, principal, kb.id, data.task_type, documents)
        return {"data": presenters.created(task)}

    @get("/sync-tasks", summary="Sync tasks of a knowledge base, newest first",
         responses=documented(SyncTaskListResponse, errors=(404,)))
    async def list_tasks(self, kb_id: str, db: AsyncEngine, principal: Principal,
                         status: TaskStatus | None = None,
                         limit: ListLimit = 10) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
            tasks = await repo.list_sync_tasks(
                conn, tenant_id=principal.tenant_id, exclusivity_key=exclusivity_key(kb.id),
                status=status.value if status else None, limit=limit)
        return {"data": [presenters.sync_task(task) for task in tasks]}


class SyncTaskController(Controller):
    path = "/api/v1/sync-tasks/{task_id:str}"
    tags = ["sync tasks"]

    @get("/", summary="A sync task with per-document status",
         responses=documented(SyncTaskDetailsResponse, errors=(404,)))
    async def details(self, task_id: str, db: AsyncEngine,
                      principal: Principal) -> dict[str, Any]:
        async with db.connect() as conn:
            task = await load_sync_task(conn, principal, task_id)
            items = await repo.sync_items(conn, task.id)
        return {"data": {**presenters.sync_task(task),
                         "documents": [presenters.sync_document(item) for item in items]}}

    @post("/cancel", status_code=200,
          summary="Cancel: no further document starts; processed documents stay indexed",
          responses=documented(SyncCancelledResponse, errors=(404,)))
    async def cancel(self, task_id: str, db: AsyncEngine, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        async with db.connect() as conn:
            task = await load_sync_task(conn, principal, task_id)
        if task.status.finished:
            raise errors.not_running(task_id, task.status.value)
        try:
            task = await commands.cancel_task(task)
        except store.InvalidTransition:
            async with db.connect() as conn:  # it finished meanwhile: report how
                task = await load_sync_task(conn, principal, task_id)
            raise errors.not_running(task_id, task.status.value) from None
        return {"message": "任务取消成功", "data": {
            "task_id": ids.public(ids.TASK, task.id), "status": task.status.value,
            "processed_documents": task.done,
            "cancelled_at": iso(task.completed_at)}}

    @post("/retry-failed", status_code=200,
          summary="A new sync task for this task's failed documents only",
          responses=documented(SyncRetryCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def retry_failed(self, task_id: str, db: AsyncEngine, principal: Principal,
                           commands: TaskCommands) -> dict[str, Any]:
        async with db.connect() as conn:
            original = await load_sync_task(conn, principal, task_id)
            items = await repo.sync_items(conn, original.id)
        if not original.status.finished:
            raise errors.not_finished(task_id, original.status.value)
        documents = [(str(item.payload["document_id"]), str(item.payload.get("filename", "")))
                     for item in items if item.status == "failed"]
        if not documents:
            raise errors.no_failed_documents(task_id)
        task = await create_sync_task(commands, principal, str(original.params["kb_id"]),
                                      "incremental", documents, parent_task_id=original.id)
        return {"message": "重试任务已创建", "data": {
            "new_task_id": ids.public(ids.TASK, task.id),
            "retry_document_count": len(documents),
            "document_ids": [ids.public(ids.DOC, doc_id) for doc_id, _ in documents]}}
