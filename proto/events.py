"""Public events on the `conveyor.events` topic exchange.

External systems bind their own queues here, so these shapes are a published interface
(proto/schema/events.asyncapi.json is generated from this file): add fields with defaults,
never rename or remove one.
"""

from typing import Any

import msgspec


class TaskSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Where a task stands; every task event carries one so a consumer never has to ask."""

    status: str
    total: int
    done: int
    failed: int
    cancelled: int
    progress: float  # 0-100
    current_step: str | None = None
    eta_seconds: int | None = None


class _TaskEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    task_id: str
    kind: str
    tenant_id: str
    user_id: str
    occurred_at: str
    snapshot: TaskSnapshot
    correlation_id: str | None = None


class TaskCreated(_TaskEvent, frozen=True, tag="task.created"):
    pass


class TaskStarted(_TaskEvent, frozen=True, tag="task.started"):
    concurrency: int
    estimated_duration_s: int | None = None


class TaskProgressed(_TaskEvent, frozen=True, tag="task.progress"):
    pass


class TaskPaused(_TaskEvent, frozen=True, tag="task.paused"):
    pass


class TaskResumed(_TaskEvent, frozen=True, tag="task.resumed"):
    pass


class TaskCompleted(_TaskEvent, frozen=True, tag="task.completed"):
    """Finished with every item done (status completed) or some failed (partial_success)."""

    result: dict[str, Any] = {}


class TaskFailed(_TaskEvent, frozen=True, tag="task.failed"):
    error: str


class TaskCancelled(_TaskEvent, frozen=True, tag="task.cancelled"):
    pass


class SettledItem(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    status: str
    error: str | None = None
    result: dict[str, Any] | None = None


class ItemsSettled(_TaskEvent, frozen=True, tag="items.settled"):
    """Items that reached a final state, batched per task and scheduler flush."""

    items: list[SettledItem]


class InstanceStatusChanged(msgspec.Struct, frozen=True, kw_only=True, tag="instance.status"):
    instance_id: str
    service: str
    name: str
    status: str  # online | offline
    occurred_at: str
    capabilities: dict[str, Any] = {}


class ServerStatusChanged(msgspec.Struct, frozen=True, kw_only=True, tag="server.status"):
    """A registered batch server (seed 004) came online, went offline or into error."""

    name: str
    server_type: str  # local | remote
    status: str  # online | offline | error
    occurred_at: str
    previous: str | None = None
    current_task_id: str | None = None
    error: str | None = None


TaskEvent = (
    TaskCreated
    | TaskStarted
    | TaskProgressed
    | TaskPaused
    | TaskResumed
    | TaskCompleted
    | TaskFailed
    | TaskCancelled
    | ItemsSettled
)
Event = TaskEvent | InstanceStatusChanged | ServerStatusChanged
