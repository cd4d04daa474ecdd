"""Response bodies of the knowledge-base API (seed 003): `{"data": ...}` (with `message` on
deletes and task commands), snake_case, ids with their type prefix (`kb-`, `doc-`, `task-`)."""

from typing import Literal

import msgspec

from libs.tasks.model import TaskStatus
from proto.kb import SearchMode
from services.gateway.tasks.schemas import QueueViewSnake


class KnowledgeBaseView(msgspec.Struct):
    id: str
    name: str
    description: str
    document_count: int
    created_at: str
    updated_at: str


class DocumentView(msgspec.Struct):
    id: str
    kb_id: str
    filename: str
    format: str  # pdf, docx, html, markdown, txt
    content_type: str
    size_bytes: int
    content_hash: str
    status: str
    sync_status: Literal["not_synced", "synced", "outdated"]
    chunk_count: int | None  # once indexed
    indexed_at: str | None
    created_at: str
    updated_at: str


class Removed(msgspec.Struct):
    id: str


class SyncCreated(msgspec.Struct):
    task_id: str
    kb_id: str
    task_type: Literal["full_sync", "incremental"]
    status: TaskStatus
    total_documents: int
    created_at: str


class SyncTaskView(msgspec.Struct, omit_defaults=True):
    id: str
    kb_id: str
    task_type: Literal["full_sync", "incremental"]
    status: TaskStatus
    progress: int
    current_step: str
    total_documents: int
    processed_documents: int
    failed_documents: int
    skipped_documents: int  # unchanged since last indexed
    started_at: str | None
    created_at: str
    completed_at: str | None = None  # once finished (not cancelled)
    cancelled_at: str | None = None  # once cancelled
    retry_of: str | None = None  # the task whose failed documents this one retries


class SyncDocumentView(msgspec.Struct, omit_defaults=True):
    document_id: str
    filename: str | None
    status: Literal["pending", "processing", "completed", "skipped", "failed", "cancelled"]
    chunks_created: int
    processing_time_ms: int
    error_message: str | None = None  # when failed


class SyncTaskDetails(SyncTaskView, omit_defaults=True):
    documents: list[SyncDocumentView] = []
    # While the task waits for workers (its status stays running): docs/api/task-api.md.
    queue: QueueViewSnake | None = None


class SyncCancelled(msgspec.Struct):
    task_id: str
    status: TaskStatus
    processed_documents: int
    cancelled_at: str | None


class SyncRetryCreated(msgspec.Struct):
    new_task_id: str
    retry_document_count: int
    document_ids: list[str]


class SearchHitView(msgspec.Struct):
    chunk_id: int
    document_id: str
    filename: str
    chunk_index: int
    content: str
    score: float  # fused relevance in (0, 1] (or the reranker's), best first
    context: str  # the headings above the chunk
    matched: list[Literal["vector", "keyword", "rerank"]]  # the signals that ranked it
    similarity: float | None  # cosine similarity to the query (None in keyword mode)
    vector_rank: int | None
    keyword_score: float | None  # ts_rank of the query's keywords
    keyword_rank: int | None
    rerank_score: float | None
    # Each matched signal's weight in the fusion for this query ("vector", "keyword").
    weights: dict[str, float]


class SearchResults(msgspec.Struct):
    kb_id: str
    query: str
    top_k: int
    mode: SearchMode
    took_ms: float
    results: list[SearchHitView]


class Listed(msgspec.Struct):
    total: int
    limit: int
    offset: int


class KnowledgeBaseResponse(msgspec.Struct):
    data: KnowledgeBaseView


class KnowledgeBaseListResponse(Listed):
    data: list[KnowledgeBaseView]


class DocumentResponse(msgspec.Struct):
    data: DocumentView


class DocumentListResponse(Listed):
    data: list[DocumentView]


class RemovedResponse(msgspec.Struct):
    message: str
    data: Removed


class SyncCreatedResponse(msgspec.Struct):
    data: SyncCreated


class SyncTaskListResponse(msgspec.Struct):
    data: list[SyncTaskView]


class SyncTaskDetailsResponse(msgspec.Struct):
    data: SyncTaskDetails


class SyncCancelledResponse(msgspec.Struct):
    message: str
    data: SyncCancelled


class SyncRetryCreatedResponse(msgspec.Struct):
    message: str
    data: SyncRetryCreated


class SearchResponse(msgspec.Struct):
    data: SearchResults
