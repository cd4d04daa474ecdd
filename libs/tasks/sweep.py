"""What needs attention that no message announced: auto-start tasks, expired item leases and
finalize leases, overdue tasks, windows to top up, and finished tasks past their retention."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import TASK_COLUMNS, Task, task_from_row
from libs.tasks.transitions import ItemAction, TaskAction, item_sources, task_sources
from proto.work import ItemResult, Outcome


async def pending_autostart(conn: AsyncConnection, limit: int = 100) -> list[Task]:
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks
            WHERE status IN {task_sources(TaskAction.START)} AND autostart
            ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED"""
        ),
        {"limit": limit},
    )
    return [task_from_row(row) for row in rows]


async def expired_leases(conn: AsyncConnection, limit: int = 1000) -> list[ItemResult]:
    """Items whose worker went silent past the timeout, as failure reports of their attempt."""
    rows = await conn.execute(
        text(
            f"""SELECT i.task_id, i.seq, i.attempt, i.status, t.item_timeout_s
            FROM task_items i JOIN tasks t ON t.id = i.task_id
            WHERE i.status IN {item_sources(ItemAction.SETTLE)} AND i.lease_until < now()
            ORDER BY i.lease_until LIMIT :limit"""
        ),
        {"limit": limit},
    )
    return [
        ItemResult(
            task_id=str(row.task_id), seq=row.seq, attempt=row.attempt, outcome=Outcome.FAILED,
            retryable=True,
            error=(f"item timed out after {row.item_timeout_s}s" if row.status == "processing"
                   else "item was never picked up by a worker"),
        )
        for row in rows
    ]


async def overdue_tasks(conn: AsyncConnection) -> list[Task]:
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks
            WHERE status = 'running' AND deadline_at < now() FOR UPDATE SKIP LOCKED"""
        )
    )
    return [task_from_row(row) for row in rows]


async def needing_attention(conn: AsyncConnection, limit: int = 200) -> list[Task]:
    """Running tasks with room in their window and an eligible item (a lost wake-up, a retry
    whose backoff elapsed), or with nothing left (a lost finalisation)."""
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks t WHERE t.status = 'running' AND (
                (t.done + t.failed + t.cancelled >= t.total
                 AND t.finalize_state IS DISTINCT FROM 'running')
                OR (t.inflight < t.concurrency AND EXISTS (
                    SELECT 1 FROM task_items i WHERE i.task_id = t.id
                    AND i.status IN {item_sources(ItemAction.DISPATCH)}
                    AND (i.not_before IS NULL OR i.not_before <= now()))))
            ORDER BY t.updated_at LIMIT :limit FOR UPDATE SKIP LOCKED"""
        ),
        {"limit": limit},
    )
    return [task_from_row(row) for row in rows]


async def expired_finished(conn: AsyncConnection, retention_s: int, limit: int = 100) -> list[str]:
    rows = await conn.execute(
        text(
            """SELECT id FROM tasks WHERE completed_at < now() - :keep * interval '1 second'
            ORDER BY completed_at LIMIT :limit"""
        ),
        {"keep": retention_s, "limit": limit},
    )
    return [str(row.id) for row in rows]


async def expired_finalizations(conn: AsyncConnection) -> list[tuple[str, int]]:
    """Finalize steps whose worker went silent: (task id, attempt)."""
    rows = await conn.execute(
        text(
            """SELECT id, finalize_attempt FROM tasks
            WHERE finalize_state = 'running' AND finalize_lease < now()"""
        )
    )
    return [(str(row.id), row.finalize_attempt) for row in rows]


async def delete_task(conn: AsyncConnection, task_id: str) -> None:
    """Forget a finished task; its items, stages and every row referencing it go with it."""
    await conn.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": task_id})
