"""State changes of a whole task: start, pause, resume, cancel, fail and finish, each allowed
only from the states `transitions.TASK_TRANSITIONS` lists for it. The gateway's commands, the
scheduler's engine and its sweep all change a task's status through these functions."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import transitions as rules
from libs.tasks.model import TASK_COLUMNS, Task, TaskStatus, task_from_row
from libs.tasks.transitions import InvalidTransition, ItemAction, TaskAction

# Every status change is also written to `task_transitions` by the same statement, so a task's
# history (each pause and resume, not just the last) is as durable as its state.
_LOGGED = """, logged AS (INSERT INTO task_transitions (task_id, action, status, error)
    SELECT id, CAST(:action AS text), status, error_message FROM changed)
SELECT * FROM changed"""


async def _transition(
    conn: AsyncConnection, task: Task, action: TaskAction, sets: str,
    target: TaskStatus | None = None, params: dict[str, Any] | None = None,
) -> Task:
    target = rules.check_target(action, target) if target else rules.only_target(action)
    row = (
        await conn.execute(
            text(
                f"""WITH changed AS (UPDATE tasks SET status = :target, {sets},
                    updated_at = now()
                WHERE id = :id AND status IN {rules.task_sources(action)}
                RETURNING {TASK_COLUMNS}){_LOGGED}"""
            ),
            {**(params or {}), "id": task.id, "target": target.value, "action": action.value},
        )
    ).one_or_none()
    if row is None:  # changed since it was read
        current = await conn.scalar(text("SELECT status FROM tasks WHERE id = :id"),
                                    {"id": task.id})
        raise InvalidTransition(task.id, TaskStatus(current or task.status), action)
    return task_from_row(row)


async def start(conn: AsyncConnection, task: Task) -> Task:
    return await _transition(
        conn, task, TaskAction.START,
        "started_at = now(), deadline_at = now() + task_timeout_s * interval '1 second'",
    )


async def pause(conn: AsyncConnection, task: Task) -> Task:
    # The moment the pause takes the task's row, not when its transaction began: a pause that
    # waited for the row (a settlement holding it) lets claims in meanwhile, as it must, and
    # those items started before it.
    return await _transition(conn, task, TaskAction.PAUSE, "paused_at = clock_timestamp()")


async def resume(conn: AsyncConnection, task: Task) -> Task:
    # Paused time neither counts towards the task's timeout nor its ETA.
    return await _transition(
        conn, task, TaskAction.RESUME,
        """paused_ms = paused_ms + (extract(epoch FROM now() - paused_at) * 1000)::bigint,
        deadline_at = deadline_at + (now() - paused_at), paused_at = NULL""",
    )


async def finish(conn: AsyncConnection, task: Task, status: TaskStatus,
                 error: str | None = None) -> Task:
    """Every item settled: the task ends in `status` (completed, partial success or failed);
    `error` becomes its message unless it has one already."""
    return await _transition(
        conn, task, TaskAction.FINISH,
        """completed_at = now(), inflight = 0,
        error_message = coalesce(error_message, CAST(:error AS text))""",
        target=status, params={"error": error})


async def cancel(conn: AsyncConnection, task: Task) -> Task:
    """Cancel at once: unstarted items are cancelled, results of in-flight ones discarded."""
    return await stop(conn, task, TaskAction.CANCEL)


async def fail(conn: AsyncConnection, task: Task, error: str) -> Task:
    """Fail at once (a timeout, or a failed item of a task that stops at its first failure)."""
    return await stop(conn, task, TaskAction.FAIL, error)


async def stop(
    conn: AsyncConnection, task: Task, action: TaskAction, error: str | None = None
) -> Task:
    """End an unfinished task now; its unfinished items are cancelled."""
    locked = await conn.scalar(
        text("SELECT status FROM tasks WHERE id = :id FOR UPDATE"), {"id": task.id}
    )
    if locked is None:
        raise InvalidTransition(task.id, task.status, action)
    rules.check_task(task.id, TaskStatus(locked), action)
    cancelled = await conn.scalar(
        text(
            f"""WITH c AS (UPDATE task_items
                SET status = {rules.item_target(ItemAction.CANCEL)}, finished_at = now(),
                lease_until = NULL
            WHERE task_id = :id AND status IN {rules.item_sources(ItemAction.CANCEL)}
            RETURNING 1) SELECT count(*) FROM c"""
        ),
        {"id": task.id},
    )
    row = (
        await conn.execute(
            text(
                f"""WITH changed AS (UPDATE tasks SET status = :status, completed_at = now(),
                inflight = 0, cancelled = cancelled + :cancelled,
                error_message = coalesce(CAST(:error AS text), error_message),
                paused_ms = paused_ms + coalesce(
                    (extract(epoch FROM now() - paused_at) * 1000)::bigint, 0),
                paused_at = NULL, updated_at = now()
                WHERE id = :id RETURNING {TASK_COLUMNS}){_LOGGED}"""
            ),
            {"id": task.id, "status": rules.only_target(action).value,
             "cancelled": int(cancelled or 0), "error": error, "action": action.value},
        )
    ).one()
    return task_from_row(row)
