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


@dataclass(frozen=True)
class TenantShare:
    tenant_id: str
    tenant: str
    kind: str
    tasks: int
    queued: int  # items of its running tasks waiting in PostgreSQL
    inflight: int  # dispatched (in the broker, within the credit) or being worked on
    share: float  # its part of the kind's items in flight, 0-1
    waiting_tasks: int  # running tasks with items to start and none allowed to
    weight: int


async def tenant_shares(conn: AsyncConnection, default_weight: int = 1) -> list[TenantShare]:
    """What each tenant gets of each kind now: its running tasks' queued and in-flight items
    and its share of the kind's in-flight items (served by the partial index on unfinished
    tasks)."""
    rows = await conn.execute(text(
        """SELECT t.tenant_id, n.name AS tenant, t.kind, count(*) AS tasks,
            sum(greatest(0, t.total - t.done - t.failed - t.cancelled - t.inflight)) AS queued,
            sum(t.inflight) AS inflight,
            count(*) FILTER (WHERE t.waiting_reason IS NOT NULL) AS waiting_tasks,
            coalesce(max(l.weight), :weight) AS weight,
            sum(t.inflight)::float8 / nullif(sum(sum(t.inflight)) OVER (PARTITION BY t.kind), 0)
                AS share
        FROM tasks t JOIN tenants n ON n.id = t.tenant_id
        LEFT JOIN tenant_limits l ON l.tenant_id = t.tenant_id
        WHERE t.status = 'running' GROUP BY t.tenant_id, n.name, t.kind
        ORDER BY t.kind, n.name"""), {"weight": default_weight})
    return [TenantShare(tenant_id=str(r.tenant_id), tenant=r.tenant, kind=r.kind,
                        tasks=r.tasks, queued=int(r.queued), inflight=int(r.inflight),
                        share=float(r.share or 0.0), waiting_tasks=r.waiting_tasks,
                        weight=r.weight) for r in rows]
