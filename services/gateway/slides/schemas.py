"""Response bodies of seed 001's slide routes (plain JSON, snake_case)."""

from typing import Any, Literal

import msgspec

from libs.tasks.model import TaskStatus
from services.gateway.tasks.schemas import QueueViewSnake

# Seed 001's statuses: a partial success is `completed`, a cancelled batch `failed`.
SeedStatus = Literal["pending", "running", "paused", "completed", "failed"]


class SlideResultView(msgspec.Struct):
    slide_id: str | None
    page_num: int | None
    title: str
    image_url: str | None  # the gateway path that redirects to the image, once rendered
    final_prompt: str | None
    status: Literal["pending", "processing", "done", "failed", "cancelled"]
    error_message: str | None
    generation_time: float | None  # seconds
    cached: bool  # copied from an identical earlier slide
    renderer: str | None
    width: int | None
    height: int | None


class SlideBatchView(msgspec.Struct, omit_defaults=True):
    batch_id: str
    session_id: str | None
    status: SeedStatus
    task_status: TaskStatus  # the engine's exact status
    total_slides: int
    successful: int
    failed: int
    cancelled: int
    total_time: float  # seconds from creation to the end (or now)
    results: list[SlideResultView]
    parent_batch_id: str | None = None  # on retry-failed answers


class SlideBatchAccepted(SlideBatchView, omit_defaults=True, kw_only=True):
    """202: the batch as it stands, still running (wait false, or the wait ran out)."""

    status_url: str  # POST {"batch_id"} there to poll
    events_url: str  # the batch's events as SSE


class SlideBatchStatus(msgspec.Struct):
    batch_id: str
    session_id: str | None
    status: SeedStatus
    task_status: TaskStatus
    total_slides: int
    successful: int
    failed: int
    cancelled: int
    total_time: float
    results: list[SlideResultView]
    progress: float  # 0.0-1.0
    completed_slides: int
    estimated_remaining_time: int | None
    # While the batch waits for workers (its status stays running): docs/api/task-api.md.
    queue: QueueViewSnake | None
    parent_batch_id: str | None
    created_at: str
    completed_at: str | None


class ActiveCount(msgspec.Struct):
    active_batches: int


class LogLineView(msgspec.Struct, omit_defaults=True):
    id: int
    timestamp: str
    level: str
    event: str  # batch_generate_start, slide_started, image_api_call, slide_completed, ...
    session_id: str
    batch_id: str
    slide_seq: int | None
    attempt: int | None
    details: dict[str, Any]
    summary: dict[str, Any] | None = None  # on batch_generate_complete


class SessionLog(msgspec.Struct):
    session_id: str
    lines: list[LogLineView]
    next_after_id: int  # pass as after_id for the next page
