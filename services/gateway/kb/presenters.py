"""Read models -> seed 003's JSON shapes."""

from typing import Any

from libs.tasks.model import Item, Task, TaskStatus
from proto.kb import ChunkHit
from services.gateway.kb import ids
from services.gateway.kb.repository import Document, KnowledgeBase
from services.gateway.tasks.presenters import iso

_STEP_WHEN = {
    TaskStatus.PENDING: "等待执行",
    TaskStatus.COMPLETED: "完成",
    TaskStatus.PARTIAL_SUCCESS: "完成（部分失败）",
    TaskStatus.FAILED: "失败",
    TaskStatus.CANCELLED: "已取消",
}
_DOCUMENT_STATUS = {"pending": "pending", "dispatched": "pending", "processing": "processing",
                    "done": "completed", "failed": "failed", "cancelled": "cancelled"}


def knowledge_base(kb: KnowledgeBase) -> dict[str, Any]:
    return {"id": ids.public(ids.KB, kb.id), "name": kb.name, "description": kb.description,
            "document_count": kb.document_count, "created_at": iso(kb.created_at),
            "updated_at": iso(kb.updated_at)}


def document(doc: Document) -> dict[str, Any]:
    if doc.indexed_hash is None:
        sync_status = "not_synced"
    else:
        sync_status = "synced" if doc.indexed_hash == doc.content_hash else "outdated"
    return {"id": ids.public(ids.DOC, doc.id), "kb_id": ids.public(ids.KB, doc.kb_id),
            "filename": doc.filename, "format": doc.format, "content_type": doc.content_type,
            "size_bytes": doc.size_bytes, "content_hash": doc.content_hash,
            "status": doc.status, "sync_status": sync_status, "chunk_count": doc.chunk_count,
            "indexed_at": iso(doc.indexed_at), "created_at": iso(doc.created_at),
            "updated_at": iso(doc.updated_at)}


def current_step(task: Task) -> str:
    return _STEP_WHEN.get(task.status) or task.current_step or "准备中"


def sync_task(task: Task) -> dict[str, Any]:
    """A sync task as seed 003 lists it; timestamps appear once they happened."""
    view: dict[str, Any] = {
        "id": ids.public(ids.TASK, task.id),
        "kb_id": ids.public(ids.KB, str(task.params.get("kb_id"))),
        "task_type": task.params.get("task_type"),
        "status": task.status.value,
        "progress": int(task.progress),
        "current_step": current_step(task),
        "total_documents": task.total,
        "processed_documents": task.done,
        "failed_documents": task.failed,
        "skipped_documents": int(task.usage.get("skipped_documents", 0)),
        "started_at": iso(task.started_at),
    }
    if task.status == TaskStatus.CANCELLED:
        view["cancelled_at"] = iso(task.completed_at)
    elif task.completed_at:
        view["completed_at"] = iso(task.completed_at)
    view["created_at"] = iso(task.created_at)
    if task.parent_task_id:
        view["retry_of"] = ids.public(ids.TASK, task.parent_task_id)
    return view


def sync_document(item: Item) -> dict[str, Any]:
    result, payload = item.result or {}, item.payload or {}
    status = _DOCUMENT_STATUS.get(item.status, item.status)
    if status == "completed" and result.get("skipped"):
        status = "skipped"  # unchanged since it was last indexed: nothing embedded
    view: dict[str, Any] = {
        "document_id": ids.public(ids.DOC, str(payload.get("document_id"))),
        "filename": payload.get("filename"),
        "status": status,
        "chunks_created": int(result.get("chunks_created", 0)),
        "processing_time_ms": item.duration_ms or 0,
    }
    if status == "failed":
        view["error_message"] = item.error
    return view


def created(task: Task) -> dict[str, Any]:
    return {"task_id": ids.public(ids.TASK, task.id),
            "kb_id": ids.public(ids.KB, str(task.params.get("kb_id"))),
            "task_type": task.params.get("task_type"), "status": task.status.value,
            "total_documents": task.total, "created_at": iso(task.created_at)}


def search_hit(hit: ChunkHit) -> dict[str, Any]:
    return {"chunk_id": hit.chunk_id, "document_id": ids.public(ids.DOC, hit.document_id),
            "filename": hit.filename, "chunk_index": hit.seq, "content": hit.content,
            "score": hit.score, "context": hit.context, "matched": hit.matched,
            "similarity": hit.similarity, "vector_rank": hit.vector_rank,
            "keyword_score": hit.keyword_score, "keyword_rank": hit.keyword_rank,
            "rerank_score": hit.rerank_score, "weights": hit.weights}


def cancelled(task: Task) -> dict[str, Any]:
    return {"task_id": ids.public(ids.TASK, task.id), "status": task.status.value,
            "processed_documents": task.done, "cancelled_at": iso(task.completed_at)}


def retry_created(task: Task, documents: list[tuple[str, str]]) -> dict[str, Any]:
    return {"new_task_id": ids.public(ids.TASK, task.id),
            "retry_document_count": len(documents),
            "document_ids": [ids.public(ids.DOC, doc_id) for doc_id, _ in documents]}
