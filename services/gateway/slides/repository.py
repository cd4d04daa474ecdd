"""The slide API's reads: active batches, session logs, online renderers (a batch's slides are
its task's items, read with their payloads through `libs.tasks.readers`).
Every query is scoped by the caller's tenant (and user, for non-admins) or takes a task the
caller was already authorised for."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import readers
from libs.tasks.kinds import SLIDES
from libs.tasks.model import UNFINISHED
from services.gateway.auth.repository import Principal


async def active_batches(conn: AsyncConnection, principal: Principal) -> int:
    return await readers.count_tasks(conn, readers.TaskFilter(
        tenant_id=principal.tenant_id, user_id=principal.owner_filter, kind=SLIDES.name,
        statuses=UNFINISHED))


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
    """The session's lines of the batches the caller may see (a session id is the client's
    choice, so two tenants may use the same one)."""
    batches = await conn.scalars(
        text("SELECT DISTINCT task_id FROM slide_logs WHERE session_id = :session_id"),
        {"session_id": session_id},
    )
    visible = await readers.visible_task_ids(
        conn, {str(task_id) for task_id in batches}, tenant_id=principal.tenant_id,
        user_id=principal.owner_filter)
    if batch_id is not None:
        visible &= {batch_id}
    if not visible:
        return []
    rows = await conn.execute(
        text("""SELECT id, task_id, seq, attempt, event, level, details, at FROM slide_logs
            WHERE session_id = :session_id AND id > :after_id
              AND task_id = ANY(CAST(:visible AS uuid[]))
            ORDER BY id LIMIT :limit"""),
        {"session_id": session_id, "after_id": after_id, "visible": sorted(visible),
         "limit": limit},
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
