"""Batches and slides in seed 001's response shapes."""

from typing import Any

from libs.tasks.model import Item, Task, TaskStatus, utcnow
from services.gateway.slides.repository import LogLine
from services.gateway.tasks.presenters import iso, queue_view

# Seed 001 knows `completed` (partial success included: its example has completed with
# failed=1) and `failed`; its polling loop stops on exactly those two, so a cancelled batch
# reads `failed` there. `task_status` keeps the engine's exact status.
SEED_STATUS = {
    TaskStatus.PENDING: "pending",
    TaskStatus.RUNNING: "running",
    TaskStatus.PAUSED: "paused",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.PARTIAL_SUCCESS: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "failed",
}
SLIDE_STATUS = {"dispatched": "pending", "processing": "processing"}


def image_path(batch_id: str, seq: int) -> str:
    return f"/api/slide/batch/{batch_id}/slides/{seq}/image"


def slide_result(batch_id: str, slide: Item) -> dict[str, Any]:
    spec, result = slide.payload or {}, slide.result or {}
    done = slide.status == "done"
    generation_time = result.get("generation_time")
    if generation_time is None and slide.duration_ms is not None:
        generation_time = round(slide.duration_ms / 1000, 3)
    return {
        "slide_id": spec.get("slide_id"),
        "page_num": spec.get("page_num"),
        "title": spec.get("title", ""),
        "image_url": image_path(batch_id, slide.seq) if done else None,
        "final_prompt": result.get("final_prompt"),
        "status": SLIDE_STATUS.get(slide.status, slide.status),
        "error_message": None if done else slide.error,
        "generation_time": generation_time,
        "cached": bool(result.get("cached", False)),
        "renderer": result.get("renderer"),
        "width": result.get("width"),
        "height": result.get("height"),
    }


def total_time(task: Task) -> float:
    """Seconds from the batch's creation to its end (or to now, while it runs)."""
    return round(((task.completed_at or utcnow()) - task.created_at).total_seconds(), 3)


def batch_result(task: Task, slides: list[Item]) -> dict[str, Any]:
    """The generate route's answer."""
    return {
        "batch_id": task.id,
        "session_id": task.params.get("session_id"),
        "status": SEED_STATUS[task.status],
        "task_status": task.status.value,
        "total_slides": task.total,
        "successful": task.done,
        "failed": task.failed,
        "cancelled": task.cancelled,
        "total_time": total_time(task),
        "results": [slide_result(task.id, slide) for slide in slides],
    }


def batch_status(task: Task, slides: list[Item], position: int | None = None) -> dict[str, Any]:
    """The status route's answer: the generate shape plus progress and the estimate."""
    finished = task.status.finished
    return {
        **batch_result(task, slides),
        "progress": round(task.progress / 100, 4),
        "completed_slides": task.done + task.failed,
        "estimated_remaining_time": None if finished else task.eta_seconds(),
        "queue": queue_view(task, position, snake=True),
        "parent_batch_id": task.parent_task_id,
        "created_at": iso(task.created_at),
        "completed_at": iso(task.completed_at),
    }


def log_line(line: LogLine, session_id: str) -> dict[str, Any]:
    details = dict(line.details)
    summary = details.pop("summary", None)
    body: dict[str, Any] = {
        "id": line.id,
        "timestamp": iso(line.at),
        "level": line.level,
        "event": line.event,
        "session_id": session_id,
        "batch_id": line.task_id,
        "slide_seq": line.seq,
        "attempt": line.attempt,
        "details": details,
    }
    if summary is not None:
        body["summary"] = summary
    return body
