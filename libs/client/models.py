"""What the client reads from the API, as msgspec structs.

Tolerant readers: unknown fields are ignored and fields a client can live without have
defaults, so a newer gateway that adds fields keeps this client working. The exact contract
is the OpenAPI document (`/openapi.json`)."""

from __future__ import annotations

from typing import Any

import msgspec

FINISHED = frozenset({"completed", "partial_success", "failed", "cancelled"})


class Camel(msgspec.Struct, rename="camel"):
    pass


# --- tasks of every kind (seed 002's conventions) ---------------------------------------------
class Stage(Camel):
    agent_type: str
    agent_name: str | None = None
    status: str = "pending"
    progress: float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int | None = None
    error_message: str | None = None


class Task(Camel):
    task_id: str
    status: str
    kind: str = ""
    task_name: str | None = None
    status_description: str | None = None
    progress: int = 0
    current_step: str | None = None
    total_items: int = 0
    completed_items: int = 0
    failed_items: int = 0
    cancelled_items: int = 0
    error_message: str | None = None
    parent_task_id: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    updated_at: str | None = None
    # Only in the status read (GET /api/v1/tasks/{id}), not in lists.
    agents: list[Stage] = []
    estimated_remaining_seconds: float | None = None
    concurrency: int | None = None
    inflight_items: int | None = None
    usage: dict[str, Any] = {}

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class TaskPage(Camel):
    total: int
    page_num: int
    page_size: int
    pages: int
    tasks: list[Task]


class TaskItem(Camel):
    seq: int
    status: str
    attempt: int = 0
    group: str | None = None
    result: Any = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None


class ItemDetail(TaskItem):
    task_id: str = ""
    input: dict[str, Any] = {}
    parent_task_id: str | None = None


class ItemPage(Camel):
    total: int
    page_num: int
    page_size: int
    pages: int
    items: list[TaskItem]


class RetryCreated(Camel):
    new_task_id: str
    retry_item_count: int
    item_seqs: list[int]
    task: Task


# --- document batches (seed 000) ---------------------------------------------------------------
class Template(Camel):
    template_id: str
    template_name: str
    filename: str | None = None
    size: int = 0
    fields: list[str] = []
    created_at: str | None = None


class DataSource(Camel):
    data_source_id: str
    name: str
    format: str = ""
    row_count: int = 0
    columns: list[str] = []
    created_at: str | None = None


class Deleted(Camel):
    deleted: bool


class PlannedTemplate(Camel):
    template_id: str
    template_name: str
    estimated_count: int


class BatchCreated(Camel):
    task_id: str
    status: str
    estimated_document_count: int
    estimated_time: int | None = None
    items: list[PlannedTemplate] = []
    websocket_url: str | None = None


class BatchControl(Camel):
    task_id: str
    status: str
    started_at: str | None = None
    paused_at: str | None = None
    resumed_at: str | None = None
    cancelled_at: str | None = None
    completed_documents: int | None = None
    message: str | None = None


class TemplateProgress(Camel):
    template_id: str
    template_name: str
    status: str
    progress: int
    completed_count: int
    total_count: int
    failed_count: int


class BatchProgress(Camel):
    task_id: str
    status: str
    progress: int
    completed_steps: int
    total_steps: int
    current_step: str | None = None
    estimated_time_remaining: float | None = None
    items: list[TemplateProgress] = []
    completed_documents: int = 0
    failed_documents: int = 0
    zip_ready: bool = False
    error_message: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


# --- the WebSocket stream (seed 000's protocol) ------------------------------------------------
class EventPayload(Camel):
    """`payload` of a task event: every task event carries the full snapshot."""

    task_id: str | None = None
    status: str | None = None
    progress: float = 0
    current: int = 0
    total: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    stage: str | None = None
    message: str | None = None
    estimated_time_remaining: float | None = None
    kind: str | None = None
    error: str | None = None
    code: str | None = None  # on `error` messages
    result: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None


class StreamEvent(msgspec.Struct):
    type: str
    payload: EventPayload
    timestamp: str | None = None

    @property
    def terminal(self) -> bool:
        return self.type in ("task_completed", "task_failed", "task_cancelled")
