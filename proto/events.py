"""Public events on the `conveyor.events` topic exchange.

External systems bind their own queues here, so these shapes are a published interface
(proto/schema/events.asyncapi.json is generated from this file): add fields with defaults,
never rename or remove one.

Each event's msgspec tag (`<family>.<event>`, its `type` field) is the one name everything else
is derived from (`proto.topology.event_key`): the routing key `<family>.<subject>.<last>`,
where `SUBJECT` names the field that fills `<subject>` and `LAST` the field that fills
`<last>` (the tag's event name when None); the WebSocket message type (`task_started`); the
AsyncAPI channels.
"""

from typing import Any, ClassVar

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
    SUBJECT: ClassVar[str] = "kind"
    LAST: ClassVar[str | None] = None

    task_id: str
    kind: str
    tenant_id: str
    user_id: str
    occurred_at: str
    snapshot: TaskSnapshot
    correlation_id: str | None = None


class TaskCreated(_TaskEvent, frozen=True, tag="task.created"):
    """A task was accepted."""


class TaskStarted(_TaskEvent, frozen=True, tag="task.started"):
    """A task started running."""

    concurrency: int
    estimated_duration_s: int | None = None


class TaskProgressed(_TaskEvent, frozen=True, tag="task.progress"):
    """Progress of a running task (throttled)."""


class TaskPaused(_TaskEvent, frozen=True, tag="task.paused"):
    """A task was paused; in-flight items still finish."""


class TaskResumed(_TaskEvent, frozen=True, tag="task.resumed"):
    """A paused task runs again."""


class TaskCompleted(_TaskEvent, frozen=True, tag="task.completed"):
    """A task finished: snapshot.status is completed, or partial_success when some items
    failed."""

    result: dict[str, Any] = {}


class TaskFailed(_TaskEvent, frozen=True, tag="task.failed"):
    """A task failed: every item, a fatal item or a timeout."""

    error: str


class TaskCancelled(_TaskEvent, frozen=True, tag="task.cancelled"):
    """A task was cancelled."""


class SettledItem(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    status: str
    error: str | None = None
    result: dict[str, Any] | None = None


class ItemsSettled(_TaskEvent, frozen=True, tag="items.settled"):
    """Items that reached done or failed, batched per task and scheduler flush."""

    items: list[SettledItem]


class InstanceStatusChanged(msgspec.Struct, frozen=True, kw_only=True, tag="instance.status"):
    """A service instance (a process) came online or went offline."""

    SUBJECT: ClassVar[str] = "service"
    LAST: ClassVar[str | None] = "status"

    instance_id: str
    service: str
    name: str
    status: str  # online | offline
    occurred_at: str
    capabilities: dict[str, Any] = {}


class ServerStatusChanged(msgspec.Struct, frozen=True, kw_only=True, tag="server.status"):
    """A registered batch server came online, went offline or into error."""

    SUBJECT: ClassVar[str] = "name"
    LAST: ClassVar[str | None] = "status"

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
TASK_EVENTS: tuple[type[TaskEvent], ...] = (
    TaskCreated, TaskStarted, TaskProgressed, TaskPaused, TaskResumed, TaskCompleted, TaskFailed,
    TaskCancelled, ItemsSettled,
)
EVENTS: tuple[type[Event], ...] = (*TASK_EVENTS, InstanceStatusChanged, ServerStatusChanged)
