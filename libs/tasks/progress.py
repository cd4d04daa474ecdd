"""What a task's stages say, derived from the task's counters and state at read time.

The stored stage rows keep only what cannot be derived (labels, when a stage started, a finalize
error). Status, counts and progress come from the task itself, so a stage can never say "299
done" of a finished 300-row batch, nor "running" once its task is paused or cancelled."""

from datetime import datetime

import msgspec

from libs.tasks.model import Stage, Task, TaskStatus

CLOSED = frozenset({"completed", "failed", "cancelled", "skipped"})


def items_summary(task: Task) -> str:
    """"300 done, 0 failed of 300", with the cancelled ones when there are any."""
    cancelled = f", {task.cancelled} cancelled" if task.cancelled else ""
    return f"{task.done} done, {task.failed} failed{cancelled} of {task.total}"


def _settled(task: Task) -> bool:
    return task.done + task.failed + task.cancelled >= task.total


def _process_status(task: Task) -> str:
    status = task.status
    if status is TaskStatus.PENDING:
        return "pending"
    if task.finalize_state is not None or status in (
            TaskStatus.COMPLETED, TaskStatus.PARTIAL_SUCCESS):
        return "completed"  # the items are behind it: the last step started or ended
    if status is TaskStatus.PAUSED:
        return "paused"
    if status is TaskStatus.CANCELLED:
        return "cancelled"
    if status is TaskStatus.FAILED:
        return "failed"
    return "completed" if _settled(task) else "running"


def _finalize_status(task: Task) -> str:
    state, status = task.finalize_state, task.status
    if state == "done":
        return "completed"
    if state == "failed":
        return "failed"
    if state == "running":
        if status is TaskStatus.CANCELLED:
            return "cancelled"
        return "paused" if status is TaskStatus.PAUSED else "running"
    if status is TaskStatus.CANCELLED:
        return "cancelled"
    return "skipped" if status.finished else "pending"


def _other_status(task: Task, stored: str) -> str:
    """A stage the engine does not drive (a worker's own, such as code generation's agents):
    one under way follows the task once the task stops; one that never started stays pending,
    as its worker left it."""
    if task.status.finished and stored not in CLOSED and stored != "pending":
        return {TaskStatus.COMPLETED: "completed", TaskStatus.PARTIAL_SUCCESS: "completed",
                TaskStatus.FAILED: "failed"}.get(task.status, "cancelled")
    if task.status is TaskStatus.PAUSED and stored == "running":
        return "paused"
    return stored


def _ended(status: str, stored: datetime | None, task: Task) -> datetime | None:
    if status not in CLOSED:
        return None
    return stored or task.completed_at or task.updated_at


def stage_views(task: Task, stages: list[Stage]) -> list[Stage]:
    """The stages as they are now: the one function every API and the console read them by."""
    views = []
    for stage in stages:
        if stage.name == "process":
            status = _process_status(task)
            settled = task.done + task.failed + task.cancelled
            progress = 100 if status == "completed" else (
                min(100, int(100 * settled / task.total)) if task.total else 0)
            view = msgspec.structs.replace(
                stage, status=status, progress=progress, summary=items_summary(task))
        elif stage.name == "finalize":
            status = _finalize_status(task)
            progress = 100 if status == "completed" else stage.progress
            view = msgspec.structs.replace(stage, status=status, progress=progress)
        else:
            view = msgspec.structs.replace(stage, status=_other_status(task, stage.status))
        # The engine's own stages start with the task; a worker's stage keeps the start it
        # recorded (none: it never ran, whatever its end state).
        driven = stage.name in ("process", "finalize")
        started = view.started_at or (task.started_at if driven and view.status != "pending"
                                      and view.status != "skipped" else None)
        views.append(msgspec.structs.replace(
            view, started_at=started, completed_at=_ended(view.status, view.completed_at, task)))
    return views

