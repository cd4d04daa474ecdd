"""Response bodies of the generic task API (seed 002's envelope `{code, message, data,
timestamp}`, camelCase). The presenters build exactly these shapes; tests validate real
answers against the OpenAPI document generated from them."""

from typing import Any, Literal

import msgspec

from libs.tasks.model import ItemStatus, TaskStatus


class Seed002Envelope(msgspec.Struct):
    code: int  # 200
    message: str  # 成功, or what was done (任务已取消, 重试任务已创建)
    timestamp: str


class StageView(msgspec.Struct, rename="camel"):
    """A stage of the task's work (seed 002 calls them agents)."""

    agent_type: str
    agent_name: str
    status: str
    status_description: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    progress: int
    result_summary: str | None
    error_message: str | None
    metadata: dict[str, Any]


class TaskSummary(msgspec.Struct, rename="camel"):
    task_id: str
    task_name: str
    kind: str  # echo, documents, slides, kb_sync, server_batch
    status: TaskStatus
    status_description: str
    progress: int  # 0-100
    current_agent: str | None
    current_step: str | None
    total_items: int
    completed_items: int
    failed_items: int
    cancelled_items: int
    download_url: str | None
    error_message: str | None
    parent_task_id: str | None  # set on a retry-failed task
    created_at: str
    started_at: str | None
    completed_at: str | None
    updated_at: str


class TokenUsage(msgspec.Struct, rename="camel"):
    total_tokens: int


class QueueView(msgspec.Struct, rename="camel"):
    """A running task waiting for its kind's workers: its status stays `running`."""

    state: Literal["queued"]
    reason: Literal["fair_share", "tenant_limit", "capacity"]
    position: int | None  # 1 = the next of the kind's waiting tasks to be considered
    waiting_since: str


class QueueViewSnake(msgspec.Struct):
    """QueueView for the families that spell their fields in snake_case."""

    state: Literal["queued"]
    reason: Literal["fair_share", "tenant_limit", "capacity"]
    position: int | None
    waiting_since: str


class TaskStatusView(TaskSummary):
    queue: QueueView | None  # set while the task waits (see QueueView)
    agents: list[StageView]
    estimated_remaining_seconds: int | None
    concurrency: int
    inflight_items: int
    usage: dict[str, Any]
    token_usage: TokenUsage | None


class ItemView(msgspec.Struct, rename="camel"):
    seq: int
    status: ItemStatus
    attempt: int
    group: str | None
    result: dict[str, Any] | None
    error: str | None
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None


class Page(msgspec.Struct, rename="camel"):
    total: int
    page_num: int
    page_size: int
    pages: int


class TaskPage(Page):
    tasks: list[TaskSummary]


class ItemPage(Page):
    items: list[ItemView]


class RetryCreated(msgspec.Struct, rename="camel"):
    new_task_id: str
    retry_item_count: int
    item_seqs: list[int]
    task: TaskSummary


class TaskStatusResponse(Seed002Envelope):
    data: TaskStatusView


class TaskSummaryResponse(Seed002Envelope):
    data: TaskSummary


class TaskPageResponse(Seed002Envelope):
    data: TaskPage


class ItemPageResponse(Seed002Envelope):
    data: ItemPage


class TransitionView(msgspec.Struct, rename="camel"):
    action: str  # start, pause, resume, cancel, fail, finish
    status: TaskStatus  # what it led to
    error: str | None
    at: str


class Timeline(msgspec.Struct, rename="camel"):
    task_id: str
    created_at: str
    transitions: list[TransitionView]


class TimelineResponse(Seed002Envelope):
    data: Timeline


class RetryCreatedResponse(Seed002Envelope):
    data: RetryCreated


class MessageResponse(Seed002Envelope):
    """Seed 002's cancel route: `data` is the message again."""

    data: str
