"""The slide API's reads: slides of a batch with their specs, active batches, session logs.
Every query is scoped by the caller's tenant (and user, for non-admins) or takes a task the
caller was already authorised for."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.kinds import SLIDES
from services.gateway.auth.repository import Principal


@dataclass(frozen=True, slots=True)
class SlideRow:
    seq: int
    status: str
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    duration_ms: int | None


async def slides_of(conn: AsyncConnection, task_id: str, *, seq: int | None = None,
                    statuses: tuple[str, ...] | None = None) -> list[SlideRow]:
    rows = await conn.execute(
        text("""SELECT seq, status, payload, result, error, duration_ms FROM task_items
            WHERE task_id = :id AND (CAST(:seq AS int) IS NULL OR seq = :seq)
              AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(:statuses))
            ORDER BY seq"""),
        {"id": task_id, "seq": seq, "statuses": list(statuses) if statuses else None},
    )
    return [SlideRow(**row._mapping) for row in rows]


async def active_batches(conn: AsyncConnection, principal: Principal) -> int:
    count = await conn.scalar(
        text("""SELECT count(*) FROM tasks WHERE kind = :kind AND tenant_id = :tenant
            AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))
            AND status IN ('pending', 'running', 'paused')"""),
        {"kind": SLIDES.name, "tenant": principal.tenant_id, "user_id": principal.owner_filter},
    )
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class LogLine:
    id: int
    task_id: str
    seq: int | None
    attempt: int | None
    event: str
    level: str
    details: dict[str, Any]
    at: datetime


async def session_log(conn: AsyncConnection, principal: Principal, session_id: str, *,
                      batch_id: str | None, after_id: int, limit: int) -> list[LogLine]:
    rows = await conn.execute(
        text("""SELECT l.id, l.task_id, l.seq, l.attempt, l.event, l.level, l.details, l.at
            FROM slide_logs l JOIN tasks t ON t.id = l.task_id
            WHERE l.session_id = :session_id AND l.id > :after_id
              AND t.tenant_id = :tenant
              AND (CAST(:user_id AS uuid) IS NULL OR t.user_id = CAST(:user_id AS uuid))
              AND (CAST(:batch_id AS text) IS NULL OR CAST(l.task_id AS text) = :batch_id)
            ORDER BY l.id LIMIT :limit"""),
        {"session_id": session_id, "after_id": after_id, "tenant": principal.tenant_id,
         "user_id": principal.owner_filter, "batch_id": batch_id, "limit": limit},
    )
    return [LogLine(**{**row._mapping, "task_id": str(row.task_id)}) for row in rows]


async def online_renderers(conn: AsyncConnection) -> set[str] | None:
    """Renderers offered by the slides instances online now (from their heartbeats), or None
    when no instance is online (a batch then waits in the queue for one)."""
    rows = (await conn.execute(
        text("""SELECT capabilities -> 'renderers' AS renderers FROM instances
            WHERE service = :kind AND status = 'online'"""),
        {"kind": SLIDES.name},
    )).all()
    if not rows:
        return None
    return {str(name) for row in rows for name in (row.renderers or [])}
