"""The knowledge-base sync API: sync tasks (create, list, details, cancel, retry the failed
documents), and the knowledge bases, documents and search they work on."""

from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from libs.tasks.model import TaskStatus
from services.gateway.auth.repository import Principal
from services.gateway.errors import validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.kb import ids, presenters
from services.gateway.kb.dto import CreateKnowledgeBaseBody, CreateSyncBody, SearchBody
from services.gateway.kb.schemas import (
    DocumentListResponse,
    DocumentResponse,
    KnowledgeBaseListResponse,
    KnowledgeBaseResponse,
    RemovedResponse,
    SearchResponse,
    SyncCancelledResponse,
    SyncCreatedResponse,
    SyncRetryCreatedResponse,
    SyncTaskDetailsResponse,
    SyncTaskListResponse,
)
from services.gateway.kb.service import KnowledgeBaseService
from services.gateway.openapi import documented
from services.gateway.tasks.presenters import queue_view
from services.gateway.tasks.service import TaskService

Limit = Annotated[int, Parameter(ge=1, le=100)]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
ListLimit = Annotated[int, Parameter(ge=1, le=50)]
FileField = Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]
KB = KnowledgeBaseService


def _file(form: dict[str, UploadFile]) -> UploadFile:
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise validation_error("file", "send the document as the multipart field 'file'")
    return file


class KnowledgeBaseController(Controller):
    path = "/api/v1/knowledge-bases"
    tags = ["knowledge bases"]

    @post("/", status_code=200, summary="Create a knowledge base",
          responses=documented(KnowledgeBaseResponse, errors=(409,)),
          opt=IDEMPOTENT_CREATE)
    async def create(self, data: CreateKnowledgeBaseBody, principal: Principal,
                     kb_service: KB) -> dict[str, Any]:
        kb = await kb_service.create(principal, data.name, data.description)
        return {"data": presenters.knowledge_base(kb)}

    @get("/", summary="The tenant's knowledge bases, newest first",
         responses=documented(KnowledgeBaseListResponse))
    async def list_kbs(self, principal: Principal, kb_service: KB, limit: Limit = 20,
                       offset: Offset = 0) -> dict[str, Any]:
        total, kbs = await kb_service.knowledge_bases(principal, offset=offset, limit=limit)
        return {"data": [presenters.knowledge_base(kb) for kb in kbs], "total": total,
                "limit": limit, "offset": offset}

    @get("/{kb_id:str}", summary="One knowledge base",
         responses=documented(KnowledgeBaseResponse, errors=(404,)))
    async def get_kb(self, kb_id: str, principal: Principal, kb_service: KB) -> dict[str, Any]:
        return {"data": presenters.knowledge_base(await kb_service.get(principal, kb_id))}

    @delete("/{kb_id:str}", status_code=200,
            summary="Delete a knowledge base with its documents and chunks",
            responses=documented(RemovedResponse, errors=(404,)))
    async def delete_kb(self, kb_id: str, principal: Principal, kb_service: KB) -> dict[str, Any]:
        kb = await kb_service.delete(principal, kb_id)
        return {"message": "知识库已删除", "data": {"id": ids.public(ids.KB, kb.id)}}

    @post("/{kb_id:str}/documents", status_code=200,
          summary="Upload a document (PDF, DOCX, HTML, Markdown, TXT) as multipart field 'file'",
          responses=documented(DocumentResponse, errors=(404, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, kb_id: str, data: FileField, principal: Principal,
                     kb_service: KB) -> dict[str, Any]:
        document = await kb_service.upload(principal, kb_id, _file(data))
        return {"data": presenters.document(document)}

    @get("/{kb_id:str}/documents", summary="Documents of a knowledge base, in upload order",
         responses=documented(DocumentListResponse, errors=(404,)))
    async def list_documents(self, kb_id: str, principal: Principal, kb_service: KB,
                             limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        total, documents = await kb_service.documents(principal, kb_id, offset=offset,
                                                      limit=limit)
        return {"data": [presenters.document(d) for d in documents], "total": total,
                "limit": limit, "offset": offset}

    @get("/{kb_id:str}/documents/{document_id:str}", summary="One document",
         responses=documented(DocumentResponse, errors=(404,)))
    async def get_document(self, kb_id: str, document_id: str, principal: Principal,
                           kb_service: KB) -> dict[str, Any]:
        document = await kb_service.document(principal, kb_id, document_id)
        return {"data": presenters.document(document)}

    @put("/{kb_id:str}/documents/{document_id:str}", status_code=200,
         summary="Replace a document's file; the next sync re-indexes it",
         responses=documented(DocumentResponse, errors=(404, 413)))
    async def replace(self, kb_id: str, document_id: str, data: FileField,
                      principal: Principal, kb_service: KB) -> dict[str, Any]:
        document = await kb_service.replace(principal, kb_id, document_id, _file(data))
        return {"data": presenters.document(document)}

    @delete("/{kb_id:str}/documents/{document_id:str}", status_code=200,
            summary="Delete a document; its chunks go with it",
            responses=documented(RemovedResponse, errors=(404,)))
    async def delete_document(self, kb_id: str, document_id: str, principal: Principal,
                              kb_service: KB) -> dict[str, Any]:
        raw = await kb_service.delete_document(principal, kb_id, document_id)
        return {"message": "文档已删除", "data": {"id": ids.public(ids.DOC, raw)}}

    @post("/{kb_id:str}/search", status_code=200,
          summary="The chunks best matching a query (keywords and meaning), best first",
          responses=documented(SearchResponse, errors=(404, 503)))
    async def search(self, kb_id: str, data: SearchBody, principal: Principal,
                     kb_service: KB) -> dict[str, Any]:
        kb, found = await kb_service.search(principal, kb_id, data.query, data.top_k,
                                            data.mode)
        return {"data": {"kb_id": ids.public(ids.KB, kb.id), "query": data.query,
                         "top_k": data.top_k, "mode": data.mode, "took_ms": found.took_ms,
                         "results": [presenters.search_hit(hit) for hit in found.hits]}}


class KnowledgeBaseSyncController(Controller):
    path = "/api/v1/knowledge-bases/{kb_id:str}"
    tags = ["sync tasks"]

    @post("/sync", status_code=200, summary="Create a sync task (full_sync or incremental)",
          responses=documented(SyncCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def create(self, kb_id: str, data: CreateSyncBody, principal: Principal,
                     kb_service: KB) -> dict[str, Any]:
        if data.task_type == "incremental" and not data.document_ids:
            raise validation_error("document_ids", "incremental syncs the listed documents: "
                                   "list at least one (or use full_sync)")
        if data.task_type == "full_sync" and data.document_ids:
            raise validation_error("document_ids", "full_sync syncs every uploaded document: "
                                   "leave it empty (or use incremental)")
        task = await kb_service.sync(principal, kb_id, data.task_type, data.document_ids)
        return {"data": presenters.created(task)}

    @get("/sync-tasks", summary="Sync tasks of a knowledge base, newest first",
         responses=documented(SyncTaskListResponse, errors=(404,)))
    async def list_tasks(self, kb_id: str, principal: Principal, kb_service: KB,
                         status: TaskStatus | None = None,
                         limit: ListLimit = 10) -> dict[str, Any]:
        tasks = await kb_service.sync_tasks(principal, kb_id, status, limit)
        return {"data": [presenters.sync_task(task) for task in tasks]}


class SyncTaskController(Controller):
    path = "/api/v1/sync-tasks/{task_id:str}"
    tags = ["sync tasks"]

    @get("/", summary="A sync task with per-document status",
         responses=documented(SyncTaskDetailsResponse, errors=(404,)))
    async def details(self, task_id: str, principal: Principal, kb_service: KB,
                      task_service: TaskService) -> dict[str, Any]:
        task, items = await kb_service.sync_task(principal, task_id)
        queue = queue_view(task, await task_service.queue_position(task), snake=True)
        return {"data": {**presenters.sync_task(task),
                         "documents": [presenters.sync_document(item) for item in items],
                         **({"queue": queue} if queue else {})}}

    @post("/cancel", status_code=200,
          summary="Cancel: no further document starts; processed documents stay indexed",
          responses=documented(SyncCancelledResponse, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal, kb_service: KB) -> dict[str, Any]:
        task = await kb_service.cancel(principal, task_id)
        return {"message": "任务取消成功", "data": presenters.cancelled(task)}

    @post("/retry-failed", status_code=200,
          summary="A new sync task for this task's failed documents only",
          responses=documented(SyncRetryCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def retry_failed(self, task_id: str, principal: Principal,
                           kb_service: KB) -> dict[str, Any]:
        task, documents = await kb_service.retry_failed(principal, task_id)
        return {"message": "重试任务已创建", "data": presenters.retry_created(task, documents)}


KB_HANDLERS = [KnowledgeBaseController, KnowledgeBaseSyncController, SyncTaskController]
