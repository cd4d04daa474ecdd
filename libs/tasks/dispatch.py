"""Moving a task's pending items into flight. Their work messages go out through the outbox
of the same unit of work, so an item is never dispatched without its message."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import Task
from libs.tasks.transitions import ITEMS_START_WHILE, ItemAction, item_sources, item_target
from proto.work import WorkItem


def _queue_lease_s(timeout: str) -> str:
    """A dispatched item's lease in seconds, as SQL over an item timeout expression: long
    enough to wait in the queue behind the whole window (the claim shortens it to the item
    timeout)."""
    return f"(4 * {timeout} + 60)"


async def dispatch(conn: AsyncConnection, task: Task, count: int) -> list[WorkItem]:
    """Move up to `count` eligible pending items to dispatched, with a lease long enough to
    wait in the queue; the claim shortens it to the item timeout once a worker starts."""
    if task.status not in ITEMS_START_WHILE:
        return []
    rows = await conn.execute(
        text(
            f"""WITH picked AS (
                SELECT seq FROM task_items WHERE task_id = :id
                  AND status IN {item_sources(ItemAction.DISPATCH)}
                  AND (not_before IS NULL OR not_before <= now())
                ORDER BY seq LIMIT :count FOR UPDATE SKIP LOCKED)
            UPDATE task_items i SET status = {item_target(ItemAction.DISPATCH)},
                attempt = i.attempt + 1,
                not_before = NULL,
                lease_until = now() + {_queue_lease_s(":timeout")} * interval '1 second'
            FROM picked WHERE i.task_id = :id AND i.seq = picked.seq
            RETURNING i.seq, i.attempt, i.payload"""
        ),
        {"id": task.id, "count": count, "timeout": task.item_timeout_s},
    )
    items = sorted(
        (WorkItem(seq=row.seq, attempt=row.attempt, payload=row.payload) for row in rows),
        key=lambda item: item.seq,
    )
    if items:
        await conn.execute(
            text("UPDATE tasks SET inflight = inflight + :n WHERE id = :id"),
            {"id": task.id, "n": len(items)},
        )
    return items
