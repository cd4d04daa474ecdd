"""The knowledge-base use cases: knowledge bases and their documents (files in storage, rows in
this area's tables), sync tasks (engine tasks of kind `kb_sync`, one item per document) and
search (a request to the ingester). The only place this area opens database connections and
transactions; routes parse and present.

Knowledge bases belong to a tenant, not a user: every member sees its documents and its sync
tasks (a member told 7002 can look up the running task it names)."""

import asyncio
import uuid
from collections.abc import Sequence

from litestar.datastructures import UploadFile
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.logging import get_logger
from libs.messaging.rpc import RpcClient, RpcUnavailable
from libs.storage import Storage
from libs.tasks import creation, readers
from libs.tasks.kinds import KB_SYNC
from libs.tasks.model import Item, Task, TaskStatus
from libs.tasks.transitions import InvalidTransition
from proto.kb import ChunksFound, SearchChunks, SearchMode
from proto.topology import Queue
from services.gateway import errors
from services.gateway.auth.repository import Principal
from services.gateway.kb import ids, uploads
from services.gateway.kb import repository as repo
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.service import TaskService

log = get_logger(__name__)


def exclusivity_key(kb_id: str) -> str:
    """One unfinished sync per knowledge base (7002), enforced by the task tables."""
    return f"kb:{kb_id}"


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


class KnowledgeBaseService:
    def __init__(self, db: AsyncEngine, storage: Storage, rpc: RpcClient,
                 task_service: TaskService, settings: GatewaySettings) -> None:
        self._db = db
        self._storage = storage
        self._rpc = rpc
        self._tasks = task_service
        self._settings = settings

    # --- loading what a route acts on (anything of another tenant is a 404) --------------

    @staticmethod
    async def _kb(conn: AsyncConnection, principal: Principal, kb_id: str,
                  for_update: bool = False) -> repo.KnowledgeBase:
        raw = ids.parse(ids.KB, kb_id)
        kb = await repo.get_kb(conn, principal.tenant_id, raw, for_update=for_update) \
            if raw else None
        if kb is None:
            raise errors.kb_not_found(kb_id)
        return kb

    @staticmethod
    async def _sync_task(conn: AsyncConnection, principal: Principal, task_id: str) -> Task:
        raw = ids.parse(ids.TASK, task_id)
        task = await readers.get_task(conn, raw, tenant_id=principal.tenant_id) if raw else None
        if task is None or task.kind != KB_SYNC.name:
            raise errors.sync_task_not_found(task_id)
        return task

    # --- knowledge bases ------------------------------------------------------------------

    async def create(self, principal: Principal, name: str,
                     description: str) -> repo.KnowledgeBase:
        limit = self._settings.kb_max_per_tenant
        async with self._db.begin() as conn:
            if await repo.count_kbs(conn, principal.tenant_id) >= limit:
                raise errors.kb_limit(limit)
            try:
                return await repo.insert_kb(conn, kb_id=str(uuid.uuid4()),
                                            tenant_id=principal.tenant_id,
                                            user_id=principal.user_id, name=name.strip(),
                                            description=description)
            except repo.NameTaken:
                raise errors.kb_name_taken(name) from None

    async def knowledge_bases(self, principal: Principal, *, offset: int,
                   limit: int) -> tuple[int, list[repo.KnowledgeBase]]:
        async with self._db.connect() as conn:
            return await repo.list_kbs(conn, principal.tenant_id, offset=offset, limit=limit)

    async def get(self, principal: Principal, kb_id: str) -> repo.KnowledgeBase:
        async with self._db.connect() as conn:
            return await self._kb(conn, principal, kb_id)

    async def delete(self, principal: Principal, kb_id: str) -> repo.KnowledgeBase:
        async with self._db.begin() as conn:
            kb = await self._kb(conn, principal, kb_id)
            holder = await readers.exclusive_holder(conn, exclusivity_key(kb.id))
            if holder:
                raise errors.sync_running(ids.public(ids.TASK, holder))
            await repo.delete_kb(conn, principal.tenant_id, kb.id)
        await self._storage.delete_prefix(uploads.kb_prefix(kb.id))
        log.info("kb.deleted", kb_id=kb.id)
        return kb

    # --- documents ------------------------------------------------------------------------

    async def upload(self, principal: Principal, kb_id: str,
                     file: UploadFile) -> repo.Document:
        async with self._db.connect() as conn:
            kb = await self._kb(conn, principal, kb_id)
            if await repo.count_documents(conn, kb.id) >= KB_SYNC.max_items:
                raise errors.document_limit(KB_SYNC.max_items)
        upload = await uploads.read_upload(file, self._settings.kb_max_document_bytes)
        document_id = str(uuid.uuid4())
        key = uploads.storage_key(kb.id, document_id, upload.sha256)
        await self._storage.put_bytes(key, upload.content, upload.content_type)
        try:
            async with self._db.begin() as conn:
                return await repo.insert_document(
                    conn, document_id=document_id, kb_id=kb.id, tenant_id=principal.tenant_id,
                    user_id=principal.user_id, filename=upload.filename, fmt=upload.format,
                    content_type=upload.content_type, size_bytes=len(upload.content),
                    content_hash=upload.sha256, storage_key=key)
        except Exception:
            await self._storage.delete_prefix(uploads.document_prefix(kb.id, document_id))
            raise

    async def documents(self, principal: Principal, kb_id: str, *, offset: int,
                        limit: int) -> tuple[int, list[repo.Document]]:
        async with self._db.connect() as conn:
            kb = await self._kb(conn, principal, kb_id)
            return await repo.list_documents(conn, kb.id, offset=offset, limit=limit)

    async def document(self, principal: Principal, kb_id: str,
                       document_id: str) -> repo.Document:
        async with self._db.connect() as conn:
            kb = await self._kb(conn, principal, kb_id)
            raw = ids.parse(ids.DOC, document_id)
            document = await repo.get_document(conn, kb.id, raw) if raw else None
        if document is None:
            raise errors.document_not_found(document_id)
        return document

    async def replace(self, principal: Principal, kb_id: str, document_id: str,
                      file: UploadFile) -> repo.Document:
        kb = await self.get(principal, kb_id)
        raw = ids.parse(ids.DOC, document_id)
        if raw is None:
            raise errors.document_not_found(document_id)
        upload = await uploads.read_upload(file, self._settings.kb_max_document_bytes)
        key = uploads.storage_key(kb.id, raw, upload.sha256)
        await self._storage.put_bytes(key, upload.content, upload.content_type)
        async with self._db.begin() as conn:
            old_key = await repo.replace_document(
                conn, kb_id=kb.id, document_id=raw, filename=upload.filename, fmt=upload.format,
                content_type=upload.content_type, size_bytes=len(upload.content),
                content_hash=upload.sha256, storage_key=key)
            document = await repo.get_document(conn, kb.id, raw)
        if old_key is None or document is None:
            raise errors.document_not_found(document_id)
        if old_key != key:
            await self._storage.delete_keys([old_key])
        return document

    async def delete_document(self, principal: Principal, kb_id: str, document_id: str) -> str:
        async with self._db.begin() as conn:
            kb = await self._kb(conn, principal, kb_id)
            raw = ids.parse(ids.DOC, document_id)
            if raw is None or not await repo.delete_document(conn, kb.id, raw):
                raise errors.document_not_found(document_id)
        await self._storage.delete_prefix(uploads.document_prefix(kb.id, raw))
        return raw

    # --- sync tasks -----------------------------------------------------------------------

    async def _create_sync(self, principal: Principal, kb_id: str, task_type: str,
                           documents: list[tuple[str, str]],
                           parent_task_id: str | None = None) -> Task:
        try:
            return await self._tasks.create(creation.NewTask(
                tenant_id=principal.tenant_id, user_id=principal.user_id, kind=KB_SYNC,
                name=f"{task_type} {ids.public(ids.KB, kb_id)}",
                items=[creation.NewItem({"document_id": doc_id, "filename": filename},
                                        group_key=doc_id) for doc_id, filename in documents],
                # total_documents: workers show "(i/n)" in current_step.
                params={"kb_id": kb_id, "task_type": task_type,
                        "total_documents": len(documents)},
                autostart=True, exclusivity_key=exclusivity_key(kb_id),
                parent_task_id=parent_task_id,
            ))
        except creation.ExclusivityConflict as exc:
            holder = exc.holder_task_id
            raise errors.sync_running(ids.public(ids.TASK, holder) if holder else None) \
                from None

    async def sync(self, principal: Principal, kb_id: str, task_type: str,
                   document_ids: list[str]) -> Task:
        """A full sync (every uploaded document) or an incremental one (the listed ones)."""
        async with self._db.connect() as conn:
            kb = await self._kb(conn, principal, kb_id)
            if task_type == "full_sync":
                documents = await repo.documents_for_sync(conn, kb.id, None)
                if not documents:
                    raise errors.nothing_to_sync(kb_id)
            else:
                parsed = {value: ids.parse(ids.DOC, value) for value in _unique(document_ids)}
                wanted = _unique([raw for raw in parsed.values() if raw])
                documents = await repo.documents_for_sync(conn, kb.id, wanted)
                found = {doc_id for doc_id, _ in documents}
                not_found = [value for value, raw in parsed.items() if raw not in found]
                if not_found:
                    raise errors.documents_not_found(not_found)
        return await self._create_sync(principal, kb.id, task_type, documents)

    async def sync_tasks(self, principal: Principal, kb_id: str, status: TaskStatus | None,
                         limit: int) -> list[Task]:
        async with self._db.connect() as conn:
            kb = await self._kb(conn, principal, kb_id)
            return await readers.list_tasks(conn, readers.TaskFilter(
                tenant_id=principal.tenant_id, kind=KB_SYNC.name,
                exclusivity_key=exclusivity_key(kb.id),
                statuses=(status.value,) if status else None), limit=limit)

    async def sync_task(self, principal: Principal, task_id: str) -> tuple[Task, list[Item]]:
        """The task with its items and their payloads (document id and filename)."""
        async with self._db.connect() as conn:
            task = await self._sync_task(conn, principal, task_id)
            return task, await readers.get_items(conn, task.id, with_payload=True)

    async def cancel(self, principal: Principal, task_id: str) -> Task:
        async with self._db.connect() as conn:
            task = await self._sync_task(conn, principal, task_id)
        if task.status.finished:
            raise errors.not_running(task_id, task.status.value)
        try:
            return await self._tasks.cancel_task(task)
        except InvalidTransition as exc:  # it finished meanwhile: report how
            raise errors.not_running(task_id, exc.status.value) from None

    async def retry_failed(self, principal: Principal,
                           task_id: str) -> tuple[Task, list[tuple[str, str]]]:
        """A new incremental sync of the task's failed documents: (task, documents)."""
        async with self._db.connect() as conn:
            original = await self._sync_task(conn, principal, task_id)
            items = await readers.get_items(conn, original.id, statuses=("failed",),
                                            with_payload=True)
        if not original.status.finished:
            raise errors.not_finished(task_id, original.status.value)
        documents = [(str(payload["document_id"]), str(payload.get("filename", "")))
                     for payload in (item.payload or {} for item in items)]
        if not documents:
            raise errors.no_failed_documents(task_id)
        task = await self._create_sync(principal, str(original.params["kb_id"]), "incremental",
                                       documents, parent_task_id=original.id)
        return task, documents

    # --- search ---------------------------------------------------------------------------

    async def search(self, principal: Principal, kb_id: str, query: str, top_k: int,
                     mode: SearchMode = "hybrid") -> tuple[repo.KnowledgeBase, ChunksFound]:
        """One request to the ingester: it embeds the query with the chunks' model, runs the
        vector and keyword rankings and fuses them. The request leaves while the knowledge
        base is looked up, not after: the ingester searches only the caller's tenant's
        chunks, so an unknown or foreign knowledge base finds nothing there, and its 404
        comes from the lookup, whose answer wins."""
        raw = ids.parse(ids.KB, kb_id)
        if raw is None:
            raise errors.kb_not_found(kb_id)
        request = SearchChunks(tenant_id=principal.tenant_id, kb_id=raw, query=query,
                               top_k=top_k, mode=mode)
        call = asyncio.ensure_future(self._rpc.call(Queue.KB_SEARCH, request, ChunksFound,
                                                    self._settings.kb_search_timeout_s))
        try:
            kb = await self.get(principal, kb_id)
            found: ChunksFound = await call
        except RpcUnavailable as exc:
            raise errors.search_unavailable(str(exc)) from None
        finally:
            if not call.done():
                call.cancel()
            elif not call.cancelled():
                call.exception()  # retrieved: a 404 from the lookup made it moot
        if found.error:
            raise errors.search_unavailable(found.error)
        return kb, found
