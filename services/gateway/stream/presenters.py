"""Events exchange messages -> seed 000's WebSocket messages `{type, payload, timestamp}`."""

from typing import Any

from libs.tasks.model import Task
from proto.events import (
    TASK_EVENTS,
    ItemsSettled,
    TaskCancelled,
    TaskCompleted,
    TaskFailed,
    TaskPaused,
    TaskProgressed,
    TaskSnapshot,
    TaskStarted,
)
from proto.events import TaskEvent as TaskEventUnion
from proto.topology import event_tag
from services.gateway.errors import iso_now

TASK_CHANNEL = "task_progress"
ITEMS_CHANNEL = "items"
CHANNEL_ALIASES = {"task_progress": TASK_CHANNEL, "tasks": TASK_CHANNEL,
                   "task_events": TASK_CHANNEL, "items": ITEMS_CHANNEL}



def message_type(event_type: type[TaskEventUnion]) -> str:
    """The WebSocket/SSE `type` of an event: its tag with `_` (`task.started` ->
    `task_started`), the names the document-batch clients switch on."""
    return event_tag(event_type).replace(".", "_")


_TYPES = {event_type: message_type(event_type) for event_type in TASK_EVENTS}
TERMINAL_TYPES = {message_type(t) for t in (TaskCompleted, TaskFailed, TaskCancelled)}


def channel_of(event: TaskEventUnion) -> str:
    return ITEMS_CHANNEL if isinstance(event, ItemsSettled) else TASK_CHANNEL


def _progress_fields(task_id: str, snap: TaskSnapshot) -> dict[str, Any]:
    current = snap.done + snap.failed
    return {
        "taskId": task_id,
        "status": snap.status,
        "progress": snap.progress,
        "current": current,
        "total": snap.total,
        "done": snap.done,
        "failed": snap.failed,
        "cancelled": snap.cancelled,
        "stage": snap.current_step or snap.status,
        "message": f"{current}/{snap.total} items processed",
        "estimatedTimeRemaining": snap.eta_seconds,
    }


def to_wire(event: TaskEventUnion) -> dict[str, Any]:
    snap = event.snapshot
    payload: dict[str, Any] = {**_progress_fields(event.task_id, snap), "kind": event.kind}
    if isinstance(event, TaskStarted):
        payload.update(mode="parallel" if event.concurrency > 1 else "sequential",
                       totalDocuments=snap.total, estimatedDuration=event.estimated_duration_s)
    elif isinstance(event, TaskCompleted):
        payload["result"] = {**event.result, "completed": snap.done, "failed": snap.failed,
                             "total": snap.total}
    elif isinstance(event, TaskFailed):
        payload["error"] = event.error
    elif isinstance(event, TaskPaused | TaskCancelled):
        payload["message"] = f"{snap.status}: {snap.done} of {snap.total} items done"
    elif isinstance(event, ItemsSettled):
        payload["items"] = [
            {"seq": i.seq, "status": i.status, "error": i.error, "result": i.result}
            for i in event.items
        ]
    return {"type": _TYPES[type(event)], "payload": payload, "timestamp": event.occurred_at}


def snapshot_message(task: Task) -> dict[str, Any]:
    """What a new subscriber gets first: where the task stands right now."""
    payload = {**_progress_fields(task.id, task.snapshot()), "kind": task.kind}
    return {"type": message_type(TaskProgressed), "payload": payload, "timestamp": iso_now()}
