"""Gateway -> scheduler notifications. The command itself is already committed in PostgreSQL;
this message only wakes the scheduler so it acts now rather than at its next sweep."""

from enum import StrEnum

import msgspec


class TaskAction(StrEnum):
    CREATED = "created"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    CANCELLED = "cancelled"


class TaskChanged(msgspec.Struct, frozen=True, kw_only=True, tag="task_changed"):
    task_id: str
    action: TaskAction
