"""Moving a task's pending items into flight (and back, when the dispatch could not be
published)."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import TASK_COLUMNS, Task, task_from_row
from libs.tasks.transitions import ITEMS_START_WHILE, ItemAction, item_sources, sql_states
from proto.work import WorkItem


def _queue_lease_s(timeout: str) -> str:
    """A dispatched item's lease in seconds, as SQL over an item timeout expression: long
    enough to wait in the queue behind the whole window (the claim shortens it to the item
    timeout). Dispatch sets it; `unclaimed` reads the dispatch time back from it."""
    return f"(4 * {timeout} + 60)"


_TASK_COLUMNS = ", ".join(f"t.{column}" for column in TASK_COLUMNS.split(", "))


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
            UPDATE task_items i SET status = 'dispatched', attempt = i.attempt + 1,
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


async def undispatch(conn: AsyncConnection, task_id: str, items: Sequence[WorkItem]) -> None:
    """Compensation when a dispatch could not be published: as if it never happened."""
    result = await conn.execute(
        text(
            f"""UPDATE task_items i SET status = 'pending', attempt = i.attempt - 1,
                lease_until = NULL
            FROM unnest(CAST(:seqs AS int[]), CAST(:attempts AS int[])) AS m(seq, attempt)
            WHERE i.task_id = :id AND i.seq = m.seq AND i.attempt = m.attempt
              AND i.status IN {item_sources(ItemAction.UNDISPATCH)}
            RETURNING 1"""
        ),
        {"id": task_id, "seqs": [i.seq for i in items], "attempts": [i.attempt for i in items]},
    )
    released = len(result.all())
    await conn.execute(
        text("UPDATE tasks SET inflight = greatest(0, inflight - :n) WHERE id = :id"),
        {"id": task_id, "n": released},
    )


async def unclaimed(conn: AsyncConnection, older_than_s: float,
                    limit: int = 1000) -> list[tuple[Task, list[WorkItem]]]:
    """Items of running tasks dispatched more than `older_than_s` ago that no worker has
    claimed, by task: their work message may never have reached the broker (a scheduler that
    died between its commit and its publish), and only their long queue lease would bring them
    back. The dispatch time is the lease's start."""
    rows = (await conn.execute(
        text(
            # The in-flight items first, once (the partial index of leased items holds only
            # them), then their tasks: a join led by the tasks would rescan them per task.
            f"""WITH i AS MATERIALIZED (
                SELECT task_id, seq, attempt, payload, lease_until FROM task_items
                WHERE status = 'dispatched' AND lease_until IS NOT NULL)
            SELECT {_TASK_COLUMNS}, i.seq AS item_seq, i.attempt AS item_attempt,
                i.payload AS item_payload
            FROM i JOIN tasks t ON t.id = i.task_id
            WHERE t.status IN {sql_states(ITEMS_START_WHILE)}
              AND i.lease_until
                < now() + ({_queue_lease_s("t.item_timeout_s")} - :older) * interval '1 second'
            ORDER BY t.id, i.seq LIMIT :limit"""
        ),
        {"older": older_than_s, "limit": limit},
    )).all()
    found: dict[str, tuple[Task, list[WorkItem]]] = {}
    for row in rows:
        task = found.setdefault(str(row.id), (task_from_row(row), []))
        task[1].append(WorkItem(seq=row.item_seq, attempt=row.item_attempt,
                                payload=row.item_payload))
    return list(found.values())
