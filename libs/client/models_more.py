"""Response structs of the snake_case families: slides (seed 001), knowledge bases (seed 003),
servers, server batches and files (seed 004). Tolerant readers, as in models.py."""

from __future__ import annotations

from typing import Any

import msgspec

from libs.client.models import FINISHED


# --- slides (seed 001) -------------------------------------------------------------------------
class SlideResult(msgspec.Struct):
    slide_id: str | None
    status: str
    page_num: int | None = None
    title: str = ""
    image_url: str | None = None
    final_prompt: str | None = None
    error_message: str | None = None
    generation_time: float | None = None
    cached: bool = False


class SlideBatch(msgspec.Struct):
    batch_id: str
    status: str
    total_slides: int
    task_status: str | None = None
    session_id: str | None = None
    successful: int = 0
    failed: int = 0
    cancelled: int = 0
    total_time: float | None = None
    results: list[SlideResult] = []
    progress: float | None = None
    estimated_remaining_time: float | None = None
    status_url: str | None = None

    @property
    def finished(self) -> bool:
        return (self.task_status or self.status) in FINISHED


# --- knowledge bases (seed 003) ----------------------------------------------------------------
class KnowledgeBase(msgspec.Struct):
    id: str
    name: str
    description: str = ""
    document_count: int = 0
    created_at: str | None = None
    updated_at: str | None = None


class KbDocument(msgspec.Struct):
    id: str
    filename: str
    status: str = ""
    sync_status: str = ""
    format: str | None = None
    size_bytes: int = 0
    chunk_count: int | None = None  # once indexed
    indexed_at: str | None = None


class SyncCreated(msgspec.Struct):
    task_id: str
    kb_id: str
    task_type: str
    status: str
    total_documents: int


class SyncDocument(msgspec.Struct):
    document_id: str
    status: str
    filename: str | None = None
    chunks_created: int = 0
    processing_time_ms: int = 0
    error_message: str | None = None


class SyncTask(msgspec.Struct):
    id: str
    status: str
    progress: int = 0
    task_type: str | None = None
    current_step: str | None = None
    total_documents: int = 0
    processed_documents: int = 0
    failed_documents: int = 0
    skipped_documents: int = 0
    documents: list[SyncDocument] = []

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class SearchHit(msgspec.Struct):
    chunk_id: Any
    document_id: str
    content: str
    score: float
    filename: str | None = None
    chunk_index: int = 0
    context: str = ""  # the headings above the chunk
    matched: list[str] = []  # the signals that ranked it: vector, keyword, rerank


class SearchResults(msgspec.Struct):
    query: str
    results: list[SearchHit]
    took_ms: float | None = None


# --- servers, server batches and files (seed 004) ---------------------------------------------
class Server(msgspec.Struct):
    name: str
    url: str
    type: str
    status: str
    enabled: bool = True
    batch_size: int = 1
    current_task_id: str | None = None
    busy: bool = False
    workflows: list[str] = []
    error: str | None = None


class ServerBatchTask(msgspec.Struct):
    task_id: str
    status: str
    message: str = ""
    engine_status: str | None = None
    progress: float = 0
    server_name: str | None = None
    workflow_name: str | None = None
    total_files: int = 0
    processed_files: int = 0
    failed_files: int = 0
    current_step: str | None = None
    output_root: str | None = None

    @property
    def finished(self) -> bool:
        return (self.engine_status or self.status) in FINISHED


class ServerCheck(msgspec.Struct):
    available: bool
    server_name: str
    workflow_name: str
    total_files: int
    message: str = ""
    skipped_files: Any = None


class StoredFile(msgspec.Struct):
    path: str
    size: int
    content_type: str | None = None
    modified_at: str | None = None


class FileList(msgspec.Struct):
    prefix: str
    files: list[StoredFile]
    truncated: bool = False
