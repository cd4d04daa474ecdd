"""Messages of the task streams: the WebSocket `/v2/stream` (seed 000's protocol) and the SSE
stream of one task (`data:` of each event). Every task event carries the full snapshot."""

from typing import Any, Literal

import msgspec

EventType = Literal["subscribed", "unsubscribed", "pong", "error", "task_created",
                    "task_started", "task_progress", "task_paused", "task_resumed",
                    "task_completed", "task_failed", "task_cancelled", "items_settled"]


class SettledItem(msgspec.Struct):
    seq: int
    status: str
    error: str | None
    result: dict[str, Any] | None


class EventPayload(msgspec.Struct, rename="camel", omit_defaults=True):
    task_id: str
    status: str
    progress: float  # 0-100
    current: int  # items done + failed
    total: int
    done: int
    failed: int
    cancelled: int
    stage: str  # the current step, or the status
    message: str
    estimated_time_remaining: int | None
    kind: str
    # task_started
    mode: Literal["parallel", "sequential"] | None = None
    total_documents: int | None = None
    estimated_duration: float | None = None
    result: dict[str, Any] | None = None  # task_completed: the kind's result and the counts
    error: str | None = None  # task_failed
    items: list[SettledItem] | None = None  # items_settled


class TaskEventMessage(msgspec.Struct):
    type: EventType
    payload: EventPayload
    timestamp: str
