"""Builds public task events from the read model, so every publisher says the same thing;
their routing keys come from the events' tags (`Outgoing.event`)."""

from typing import Any

import structlog

from libs.messaging.publisher import Outgoing
from libs.tasks.model import Task, utcnow
from proto.events import (
    ItemsSettled,
    SettledItem,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskPaused,
    TaskProgressed,
    TaskResumed,
    TaskStarted,
)

TaskEventType = (
    type[TaskCreated] | type[TaskStarted] | type[TaskProgressed] | type[TaskPaused]
    | type[TaskResumed] | type[TaskCompleted] | type[TaskFailed] | type[TaskCancelled]
)


def _common(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "kind": task.kind,
        "tenant_id": task.tenant_id,
        "user_id": task.user_id,
        "occurred_at": utcnow().isoformat(),
        "snapshot": task.snapshot(),
        "correlation_id": structlog.contextvars.get_contextvars().get("correlation_id"),
    }


def task_event(event_type: TaskEventType, task: Task, **extra: Any) -> Outgoing:
    return Outgoing.event(event_type(**_common(task), **extra), task_id=task.id)


def started_event(task: Task) -> Outgoing:
    return task_event(TaskStarted, task, concurrency=task.concurrency)


def finished_event(task: Task) -> Outgoing:
    """The event for a task that just reached a final status."""
    if task.status == "cancelled":
        return task_event(TaskCancelled, task)
    if task.status == "failed":
        return task_event(TaskFailed, task, error=task.error_message or "task failed")
    return task_event(TaskCompleted, task, result=task.result)


def items_settled_event(task: Task, items: list[SettledItem]) -> Outgoing:
    return Outgoing.event(ItemsSettled(**_common(task), items=items), task_id=task.id)
