"""Aggregate reads of the task tables for the metrics gauges (sampled by the scheduler)."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class KindStats:
    kind: str
    status: str
    tasks: int
    inflight: int
    window: int


async def unfinished_by_kind(conn: AsyncConnection) -> list[KindStats]:
    """Unfinished tasks per (kind, status), with their in-flight items and window sizes. Served
    by the partial index on unfinished tasks: the cost follows the live tasks, not the history."""
    rows = await conn.execute(text(
        """SELECT kind, status, count(*) AS tasks, coalesce(sum(inflight), 0) AS inflight,
            coalesce(sum(concurrency), 0) AS window FROM tasks
        WHERE status IN ('pending', 'running', 'paused') GROUP BY kind, status"""))
    return [KindStats(row.kind, row.status, row.tasks, row.inflight, row.window) for row in rows]
