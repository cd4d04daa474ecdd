"""Task read model -> JSON in seed 002's conventions (camelCase, `agents` for stages)."""

from datetime import datetime
from typing import Any

from libs.tasks.model import Item, Stage, Task, Transition
from services.gateway.errors import iso_now

STATUS_DESCRIPTIONS = {
    "pending": "等待执行",
    "running": "执行中",
    "paused": "已暂停",
    "completed": "任务完成",
    "partial_success": "部分成功",
    "failed": "任务失败",
    "cancelled": "任务取消",
    "skipped": "已跳过",
}


def ok(data: Any, message: str = "成功") -> dict[str, Any]:
    """Seed 002's success envelope."""
    return {"code": 200, "message": message, "data": data, "timestamp": iso_now()}


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _stage(stage: Stage) -> dict[str, Any]:
    duration = (
        int((stage.completed_at - stage.started_at).total_seconds() * 1000)
        if stage.started_at and stage.completed_at else None
    )
    return {
        "agentType": stage.name,
        "agentName": stage.label,
        "status": stage.status,
        "statusDescription": STATUS_DESCRIPTIONS.get(stage.status, stage.status),
        "startedAt": iso(stage.started_at),
        "completedAt": iso(stage.completed_at),
        "durationMs": duration,
        "progress": stage.progress,
        "resultSummary": stage.summary,
        "errorMessage": stage.error_message,
        "metadata": stage.metadata,
    }


def _current_stage(stages: list[Stage]) -> str | None:
    running = [s for s in stages if s.status == "running"]
    if running:
        return running[0].name
    started = [s for s in stages if s.started_at]
    return started[-1].name if started else None


def task_summary(task: Task, stages: list[Stage] | None = None) -> dict[str, Any]:
    return {
        "taskId": task.id,
        "taskName": task.name,
        "kind": task.kind,
        "status": task.status.value,
        "statusDescription": STATUS_DESCRIPTIONS[task.status.value],
        "progress": int(task.progress),
        "currentAgent": _current_stage(stages) if stages else None,
        "currentStep": task.current_step,
        "totalItems": task.total,
        "completedItems": task.done,
        "failedItems": task.failed,
        "cancelledItems": task.cancelled,
        "downloadUrl": None,
        "errorMessage": task.error_message,
        "parentTaskId": task.parent_task_id,
        "createdAt": iso(task.created_at),
        "startedAt": iso(task.started_at),
        "completedAt": iso(task.completed_at),
        "updatedAt": iso(task.updated_at),
    }


QUEUED_DESCRIPTION = "排队中"


def queue_view(task: Task, position: int | None, *, snake: bool = False) -> dict[str, Any] | None:
    """Why a running task has items to start and none started: `fair_share` (other tenants
    hold their share of the kind's workers), `tenant_limit` (the tenant's own limit of running
    items) or `capacity` (the workers are busy with the tenant's other work); its position
    among the kind's waiting tasks, and since when it waits. None when it does not wait."""
    if task.waiting_reason is None or task.status.value != "running":
        return None
    return {"state": "queued", "reason": task.waiting_reason, "position": position,
            "waiting_since" if snake else "waitingSince": iso(task.waiting_since)}


def task_status(task: Task, stages: list[Stage], position: int | None = None) -> dict[str, Any]:
    tokens = task.usage.get("tokens")
    queue = queue_view(task, position)
    summary = task_summary(task, stages)
    if queue is not None:
        summary["statusDescription"] = QUEUED_DESCRIPTION
    return {
        **summary,
        "queue": queue,
        "agents": [_stage(stage) for stage in stages],
        "estimatedRemainingSeconds": task.eta_seconds(),
        "concurrency": task.concurrency,
        "inflightItems": task.inflight,
        "usage": task.usage,
        "tokenUsage": {"totalTokens": int(tokens)} if tokens is not None else None,
    }


def item_view(item: Item) -> dict[str, Any]:
    return {
        "seq": item.seq,
        "status": item.status.value,
        "attempt": item.attempt,
        "group": item.group_key,
        "result": item.result,
        "error": item.error,
        "startedAt": iso(item.started_at),
        "finishedAt": iso(item.finished_at),
        "durationMs": item.duration_ms,
    }


def page(total: int, page_num: int, page_size: int, key: str, rows: list[Any]) -> dict[str, Any]:
    return {
        "total": total,
        "pageNum": page_num,
        "pageSize": page_size,
        "pages": (total + page_size - 1) // page_size,
        key: rows,
    }


def timeline(task: Task, transitions: list[Transition]) -> dict[str, Any]:
    return {
        "taskId": task.id,
        "createdAt": iso(task.created_at),
        "transitions": [{"action": t.action, "status": t.status, "error": t.error,
                         "at": iso(t.at)} for t in transitions],
    }
