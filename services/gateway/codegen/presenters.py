"""A codegen task in seed 002's exact shape: the engine's `running` named after the agent at work
(`planning` ... `generating`), the agents with their timings, tokens per agent, the spec id,
the quality score and the presigned links. Tasks of other kinds keep the generic shape."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from libs.tasks.model import Stage, Task, TaskStatus, utcnow
from proto.codegen import RUNNING_STATUS, STATUS_DESCRIPTIONS, Agent
from services.gateway.tasks.presenters import iso, task_status, task_summary

AGENT_STATUS_DESCRIPTIONS = {
    "pending": "等待中", "running": "运行中", "completed": "已完成", "failed": "失败",
    "skipped": "已跳过", "cancelled": "已取消",
}

# Presigns a stored object (key, download file name or None) -> URL.
Presign = Callable[[str, str | None], str]


def _agent_status(stage: Stage, task: Task) -> str:
    """A stage still open when its task ended ends with the task (cancelled, timed out)."""
    if stage.status == "running" and task.status.finished:
        return "cancelled" if task.status is TaskStatus.CANCELLED else "failed"
    return stage.status


def _duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() * 1000) if start and end else None


def agent_view(stage: Stage, task: Task) -> dict[str, Any]:
    status = _agent_status(stage, task)
    metadata = {k: v for k, v in stage.metadata.items() if k != "files"}
    return {
        "agentType": stage.name,
        "agentName": stage.label,
        "status": status,
        "statusDescription": AGENT_STATUS_DESCRIPTIONS.get(status, status),
        "startedAt": iso(stage.started_at),
        "completedAt": iso(stage.completed_at),
        "durationMs": _duration_ms(stage.started_at, stage.completed_at),
        "progress": stage.progress,
        "resultSummary": stage.summary,
        "errorMessage": stage.error_message,
        "metadata": metadata,
    }


def _current(stages: list[Stage]) -> Stage | None:
    running = [s for s in stages if s.status == "running"]
    started = [s for s in stages if s.started_at]
    return running[0] if running else (started[-1] if started else None)


def codegen_status(task: Task, stages: list[Stage]) -> str:
    if task.status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED):
        return task.status.value
    if task.status is TaskStatus.PARTIAL_SUCCESS:
        return "failed"
    current = _current(stages)
    if task.status is TaskStatus.RUNNING and current is not None:
        return RUNNING_STATUS.get(current.name, "planning")
    return "pending" if task.status is not TaskStatus.PAUSED else "paused"


def _progress(task: Task, stages: list[Stage]) -> int:
    if task.status is TaskStatus.COMPLETED:
        return 100
    done = sum(100 if s.status in ("completed", "skipped") else s.progress for s in stages)
    return int(done / len(stages)) if stages else 0


def _meta(stages: list[Stage], agent: Agent) -> dict[str, Any]:
    return next((s.metadata for s in stages if s.name == agent.value), {})


def _stage(stages: list[Stage], agent: Agent) -> Stage | None:
    return next((s for s in stages if s.name == agent.value), None)


def token_usage(stages: list[Stage]) -> dict[str, Any]:
    tokens = {agent: int(_meta(stages, agent).get("tokens") or 0) for agent in Agent}
    cost = sum(float(_meta(stages, agent).get("cost") or 0) for agent in Agent)
    return {"planTokens": tokens[Agent.PLAN], "executeTokens": tokens[Agent.EXECUTE],
            "validateTokens": tokens[Agent.VALIDATE], "totalTokens": sum(tokens.values()),
            "estimatedCost": round(cost, 4)}


def _eta(task: Task, progress: int, now: datetime) -> int | None:
    if task.status.finished:
        return 0
    if task.started_at is None or progress <= 0:
        return None
    elapsed = (now - task.started_at).total_seconds()
    return max(0, round(elapsed * (100 - progress) / progress))


def _links(task: Task, stages: list[Stage], presign: Presign) -> tuple[str | None, str | None]:
    if task.status is not TaskStatus.COMPLETED:
        return None, None
    generated = _meta(stages, Agent.GENERATE)
    package = str(_meta(stages, Agent.EXECUTE).get("packageName") or "project")
    archive, preview = generated.get("archiveKey"), generated.get("previewKey")
    return (presign(archive, f"{package.rsplit('.', 1)[-1]}.zip") if archive else None,
            presign(preview, None) if preview else None)


def _error(task: Task, stages: list[Stage]) -> str | None:
    failed = next((s.error_message for s in stages if s.status == "failed" and s.error_message),
                  None)
    return failed or task.error_message


def _score(stages: list[Stage]) -> int | None:
    validate = _stage(stages, Agent.VALIDATE)
    if validate is None or validate.status != "completed":
        return None
    score = validate.metadata.get("qualityScore")
    return int(score) if score is not None else None


def codegen_summary(task: Task, stages: list[Stage], presign: Presign) -> dict[str, Any]:
    """A task as seed 002's list shows it."""
    status = codegen_status(task, stages)
    current = _current(stages)
    download, _ = _links(task, stages, presign)
    return {
        **task_summary(task, stages),
        "status": status,
        "statusDescription": STATUS_DESCRIPTIONS.get(status, status),
        "progress": _progress(task, stages),
        "currentAgent": current.name if current else None,
        "appSpecId": _meta(stages, Agent.EXECUTE).get("appSpecId"),
        "qualityScore": _score(stages),
        "downloadUrl": download,
        "errorMessage": _error(task, stages),
    }


def codegen_view(task: Task, stages: list[Stage], presign: Presign) -> dict[str, Any]:
    """A task as seed 002's status route shows it."""
    summary = codegen_summary(task, stages, presign)
    generic = task_status(task, stages)
    _, preview = _links(task, stages, presign)
    validate = _meta(stages, Agent.VALIDATE)
    return {
        **generic,
        **summary,
        "userRequirement": task.params.get("user_requirement"),
        "packageName": _meta(stages, Agent.EXECUTE).get("packageName")
        or task.params.get("package_name") or None,
        "provider": _meta(stages, Agent.PLAN).get("provider"),
        "agents": [agent_view(stage, task) for stage in stages],
        "estimatedRemainingSeconds": _eta(task, summary["progress"], utcnow()),
        "previewUrl": preview,
        "qualityReport": {"score": validate.get("qualityScore"),
                          "checks": validate.get("checks", []),
                          "reviewerNotes": validate.get("reviewerNotes", [])}
        if validate else None,
        "files": _meta(stages, Agent.GENERATE).get("files", []),
        "tokenUsage": token_usage(stages),
    }


def generic_summary(task: Task) -> dict[str, Any]:
    return task_summary(task)


def generic_view(task: Task, stages: list[Stage]) -> dict[str, Any]:
    return task_status(task, stages)
