"""Workers claim items before starting them. The claim is the moment an item "starts": it only
succeeds while the task is running, so once a pause or cancel is committed no further item of
that task starts, even one already waiting in the queue."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.transitions import (
    ITEMS_START_WHILE,
    ItemAction,
    item_sources,
    item_target,
    sql_states,
)
from proto.work import WorkItem

_CLAIM = f"""UPDATE task_items i SET status = {item_target(ItemAction.CLAIM)}, started_at = now(),
        lease_until = now() + t.item_timeout_s * interval '1 second'
    FROM tasks t, unnest(CAST(:seqs AS int[]), CAST(:attempts AS int[])) AS m(seq, attempt)
    WHERE t.id = :task_id AND t.status IN {sql_states(ITEMS_START_WHILE)}
      AND i.task_id = t.id AND i.seq = m.seq AND i.attempt = m.attempt
      AND (i.status IN {item_sources(ItemAction.CLAIM)}
           OR (i.status IN {item_sources(ItemAction.RECLAIM)} AND :redelivered))
    RETURNING i.seq,
        extract(epoch FROM now() - greatest(t.started_at, i.finished_at)) AS waited_s"""


async def claim(
    conn: AsyncConnection, task_id: str, items: Sequence[WorkItem], *, redelivered: bool
) -> dict[int, float]:
    """Mark the items `processing` and return the seqs this worker may run, each with the
    seconds it waited since it could first be dispatched (its task's start, or for a retry
    its previous attempt's end).

    A redelivered message may re-claim items left `processing` by a worker that died; stale
    messages (an older attempt, an item already settled) claim nothing."""
    # Losing a claim in a database crash is harmless (the item's report is accepted from
    # `dispatched` as well), so the claim need not wait for its WAL flush.
    await conn.execute(text("SET LOCAL synchronous_commit = off"))
    rows = await conn.execute(
        text(_CLAIM),
        {
            "task_id": task_id,
            "seqs": [item.seq for item in items],
            "attempts": [item.attempt for item in items],
            "redelivered": redelivered,
        },
    )
    return {row.seq: max(0.0, float(row.waited_s or 0)) for row in rows}
