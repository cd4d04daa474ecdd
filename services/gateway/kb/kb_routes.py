"""Knowledge bases and their documents (the part of seed 003's API the seed assumes)."""

import uuid
from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.storage import Storage
from libs.tasks import store
from libs.tasks.kinds import KB_SYNC
from services.gateway.auth.repository import Principal
from services.gateway.errors import validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.kb import errors, ids, presenters, uploads
from services.gateway.kb import repository as repo
from services.gateway.kb.access import exclusivity_key, load_kb
from services.gateway.kb.dto import CreateKnowledgeBaseBody
from services.gateway.kb.schemas import (
    DocumentListResponse,
    DocumentResponse,
    KnowledgeBaseListResponse,
    KnowledgeBaseResponse,
    RemovedResponse,
)
from services.gateway.openapi import documented
from services.gateway.settings import GatewaySettings

log = get_logger(__name__)

Limit = Annotated[int, Parameter(ge=1, le=100)]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
FileField = Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]


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
    async def create(self, data: CreateKnowledgeBaseBody, db: AsyncEngine, principal: Principal,
                     settings: GatewaySettings) -> dict[str, Any]:
        async with db.begin() as conn:
            if await repo.count_kbs(conn, principal.tenant_id) >= settings.kb_max_per_tenant:
                raise errors.kb_limit(settings.kb_max_per_tenant)
            try:
                kb = await repo.insert_kb(conn, kb_id=str(uuid.uuid4()),
                                          tenant_id=principal.tenant_id,
                                          user_id=principal.user_id, name=data.name.strip(),
                                          description=data.description)
            except repo.NameTaken:
                raise errors.kb_name_taken(data.name) from None
        return {"data": presenters.knowledge_base(kb)}

    @get("/", summary="The tenant's knowledge bases, newest first",
         responses=documented(KnowledgeBaseListResponse))
    async def list_kbs(self, db: AsyncEngine, principal: Principal, limit: Limit = 20,
                       offset: Offset = 0) -> dict[str, Any]:
        async with db.connect() as conn:
            total, kbs = await repo.list_kbs(conn, principal.tenant_id, offset=offset,
                                             limit=limit)
        return {"data": [presenters.knowledge_base(kb) for kb in kbs], "total": total,
                "limit": limit, "offset": offset}

    @get("/{kb_id:str}", summary="One knowledge base",
         responses=documented(KnowledgeBaseResponse, errors=(404,)))
    async def get_kb(self, kb_id: str, db: AsyncEngine, principal: Principal) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
        return {"data": presenters.knowledge_base(kb)}

    @delete("/{kb_id:str}", status_code=200,
            summary="Delete a knowledge base with its documents and chunks",
            responses=documented(RemovedResponse, errors=(404,)))
    async def delete_kb(self, kb_id: str, db: AsyncEngine, principal: Principal,
                        storage: Storage) -> dict[str, Any]:
        async with db.begin() as conn:
            kb = await load_kb(conn, principal, kb_id)
            holder = await store.exclusive_holder(conn, exclusivity_key(kb.id))
            if holder:
                raise errors.sync_running(holder)
            await repo.delete_kb(conn, principal.tenant_id, kb.id)
        await storage.delete_prefix(uploads.kb_prefix(kb.id))
        log.info("kb.deleted", kb_id=kb.id)
        return {"message": "知识库已删除", "data": {"id": ids.public(ids.KB, kb.id)}}

    @post("/{kb_id:str}/documents", status_code=200,
          summary="Upload a document (PDF, DOCX, HTML, Markdown, TXT) as multipart field 'file'",
          responses=documented(DocumentResponse, errors=(404, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, kb_id: str, data: FileField, db: AsyncEngine, principal: Principal,
                     storage: Storage, settings: GatewaySettings) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
            if await repo.count_documents(conn, kb.id) >= KB_SYNC.max_items:
                raise errors.document_limit(KB_SYNC.max_items)
        upload = await uploads.read_upload(_file(data), settings.kb_max_document_bytes)
        document_id = str(uuid.uuid4())
        key = uploads.storage_key(kb.id, document_id, upload.sha256)
        await storage.put_bytes(key, upload.content, upload.content_type)
        try:
            async with db.begin() as conn:
                document = await repo.insert_document(
                    conn, document_id=document_id, kb_id=kb.id, tenant_id=principal.tenant_id,
                    user_id=principal.user_id, filename=upload.filename, fmt=upload.format,
                    content_type=upload.content_type, size_bytes=len(upload.content),
                    content_hash=upload.sha256, storage_key=key)
        except Exception:
            await storage.delete_prefix(uploads.document_prefix(kb.id, document_id))
            raise
        return {"data": presenters.document(document)}

    @get("/{kb_id:str}/documents", summary="Documents of a knowledge base, in upload order",
         responses=documented(DocumentListResponse, errors=(404,)))
    async def list_documents(self, kb_id: str, db: AsyncEngine, principal: Principal,
                             limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
            total, documents = await repo.list_documents(conn, kb.id, offset=offset,
                                                         limit=limit)
        return {"data": [presenters.document(d) for d in documents], "total": total,
                "limit": limit, "offset": offset}

    @get("/{kb_id:str}/documents/{document_id:str}", summary="One document",
         responses=documented(DocumentResponse, errors=(404,)))
    async def get_document(self, kb_id: str, document_id: str, db: AsyncEngine,
                           principal: Principal) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
            raw = ids.parse(ids.DOC, document_id)
            document = await repo.get_document(conn, kb.id, raw) if raw else None
        if document is None:
            raise errors.document_not_found(document_id)
        return {"data": presenters.document(document)}

    @put("/{kb_id:str}/documents/{document_id:str}", status_code=200,
         summary="Replace a document's file; the next sync re-indexes it",
         responses=documented(DocumentResponse, errors=(404, 413)))
    async def replace(self, kb_id: str, document_id: str, data: FileField, db: AsyncEngine,
                      principal: Principal, storage: Storage,
                      settings: GatewaySettings) -> dict[str, Any]:
        async with db.connect() as conn:
            kb = await load_kb(conn, principal, kb_id)
        raw = ids.parse(ids.DOC, document_id)
        if raw is None:
            raise errors.document_not_found(document_id)
        upload = await uploads.read_upload(_file(data), settings.kb_max_document_bytes)
        key = uploads.storage_key(kb.id, raw, upload.sha256)
        await storage.put_bytes(key, upload.content, upload.content_type)
        async with db.begin() as conn:
            old_key = await repo.replace_document(
                conn, kb_id=kb.id, document_id=raw, filename=upload.filename, fmt=upload.format,
                content_type=upload.content_type, size_bytes=len(upload.content),
                content_hash=upload.sha256, storage_key=key)
            document = await repo.get_document(conn, kb.id, raw)
        if old_key is None or document is None:
            raise errors.document_not_found(document_id)
        if old_key != key:
            await storage.delete_keys([old_key])
        return {"data": presenters.document(document)}

    @delete("/{kb_id:str}/documents/{document_id:str}", status_code=200,
            summary="Delete a document; its chunks go with it",
            responses=documented(RemovedResponse, errors=(404,)))
    async def delete_document(self, kb_id: str, document_id: str, db: AsyncEngine,
                              principal: Principal, storage: Storage) -> dict[str, Any]:
        async with db.begin() as conn:
            kb = await load_kb(conn, principal, kb_id)
            raw = ids.parse(ids.DOC, document_id)
            if raw is None or not await repo.delete_document(conn, kb.id, raw):
                raise errors.document_not_found(document_id)
        await storage.delete_prefix(uploads.document_prefix(kb.id, raw))
        return {"message": "文档已删除", "data": {"id": ids.public(ids.DOC, raw)}}
