"""Aggregate reads of the task tables for the metrics gauges (sampled by the scheduler)."""

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class MinuteStats:
    minute: datetime
    kind: str
    done: int
    failed: int
    waiting: int  # items created but not started by the minute's end
    running: int  # items started but not finished by the minute's end


async def last_hour(conn: AsyncConnection, tenant_id: str) -> list[MinuteStats]:
    """A tenant's activity per minute and kind over the last hour, from the items themselves:
    items finished (done, failed) in each minute, and the queue (waiting, running) at its end.
    Only tasks alive during the hour are read (the owner index, then each task's items)."""
    rows = await conn.execute(text(
        """WITH recent AS (
            SELECT id, kind, created_at FROM tasks WHERE tenant_id = :tenant
              AND (completed_at IS NULL OR completed_at >= now() - interval '1 hour')),
          minutes AS (
            SELECT m, m + interval '1 minute' AS e FROM generate_series(
                date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                interval '1 minute') AS m)
        SELECT minutes.m AS minute, r.kind,
          count(*) FILTER (WHERE i.status = 'done' AND i.finished_at >= minutes.m
                           AND i.finished_at < minutes.e) AS done,
          count(*) FILTER (WHERE i.status = 'failed' AND i.finished_at >= minutes.m
                           AND i.finished_at < minutes.e) AS failed,
          count(*) FILTER (WHERE r.created_at < minutes.e AND i.status <> 'cancelled'
                           AND (i.started_at IS NULL OR i.started_at >= minutes.e)
                           AND (i.finished_at IS NULL OR i.finished_at >= minutes.e)) AS waiting,
          count(*) FILTER (WHERE i.started_at < minutes.e
                           AND (i.finished_at IS NULL OR i.finished_at >= minutes.e)) AS running
        FROM minutes CROSS JOIN recent r JOIN task_items i ON i.task_id = r.id
        GROUP BY minutes.m, r.kind ORDER BY minutes.m, r.kind"""), {"tenant": tenant_id})
    return [MinuteStats(row.minute, row.kind, row.done, row.failed, row.waiting, row.running)
            for row in rows]
