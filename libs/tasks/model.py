"""Task and item states, and the read model every API renders from."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec

from proto.events import TaskSnapshot


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    PARTIAL_SUCCESS = "partial_success"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.PARTIAL_SUCCESS, TaskStatus.FAILED, TaskStatus.CANCELLED}
)
UNFINISHED = frozenset({TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.PAUSED})


class ItemStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Task(msgspec.Struct, kw_only=True):
    id: str
    tenant_id: str
    user_id: str
    kind: str
    name: str
    route: str
    status: TaskStatus
    params: dict[str, Any]
    concurrency: int
    pack_size: int
    max_attempts: int
    continue_on_error: bool
    item_timeout_s: int
    task_timeout_s: int | None
    autostart: bool
    exclusivity_key: str | None
    parent_task_id: str | None
    total: int
    done: int
    failed: int
    cancelled: int
    inflight: int
    current_step: str | None
    error_message: str | None
    result: dict[str, Any]
    usage: dict[str, float]
    paused_ms: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    paused_at: datetime | None
    completed_at: datetime | None
    deadline_at: datetime | None
    finalize: bool = False
    finalize_state: str | None = None  # running | done | failed
    finalize_attempt: int = 0
    priority: int = 1  # 0 high, 1 normal, 2 low (libs/tasks/fairshare.py)
    waiting_reason: str | None = None  # why a running task has items and none may start
    waiting_since: datetime | None = None

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def progress(self) -> float:
        if self.status in (TaskStatus.COMPLETED, TaskStatus.PARTIAL_SUCCESS):
            return 100.0
        return round(100.0 * self.processed / self.total, 1) if self.total else 0.0

    def active_seconds(self, now: datetime | None = None) -> float:
        """Running time so far, pauses excluded."""
        if self.started_at is None:
            return 0.0
        end = self.completed_at or self.paused_at or now or utcnow()
        return max(0.0, (end - self.started_at).total_seconds() - self.paused_ms / 1000)

    def eta_seconds(self, now: datetime | None = None) -> int | None:
        if self.status.finished:
            return 0
        remaining = self.total - self.processed - self.cancelled
        elapsed = self.active_seconds(now)
        if self.processed == 0 or elapsed <= 0:
            return None
        return round(remaining * elapsed / self.processed)

    def snapshot(self) -> TaskSnapshot:
        return TaskSnapshot(
            status=self.status.value,
            total=self.total,
            done=self.done,
            failed=self.failed,
            cancelled=self.cancelled,
            progress=self.progress,
            current_step=self.current_step,
            eta_seconds=self.eta_seconds(),
        )


TASK_COLUMNS = ", ".join(Task.__struct_fields__)


def task_from_row(row: Any) -> Task:
    """A SQLAlchemy row."""
    return task_from_mapping(dict(row._mapping))


def task_from_mapping(values: dict[str, Any]) -> Task:
    """The task's columns by name (an asyncpg record made a dict)."""
    for key in ("id", "tenant_id", "user_id", "parent_task_id"):
        if values[key] is not None:
            values[key] = str(values[key])
    return msgspec.convert(values, Task, from_attributes=True, strict=False)


class Stage(msgspec.Struct, kw_only=True):
    position: int
    name: str
    label: str
    status: str
    progress: int
    started_at: datetime | None
    completed_at: datetime | None
    summary: str | None
    error_message: str | None
    metadata: dict[str, Any]


class Transition(msgspec.Struct, kw_only=True):
    """One status change of a task, as `task_transitions` keeps it."""

    action: str  # start, pause, resume, cancel, fail, finish
    status: str  # the status it led to
    error: str | None
    at: datetime


class Item(msgspec.Struct, kw_only=True):
    seq: int
    status: ItemStatus
    attempt: int
    group_key: str | None
    result: dict[str, Any] | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    payload: dict[str, Any] | None = None  # read only when asked for (it can be large)
