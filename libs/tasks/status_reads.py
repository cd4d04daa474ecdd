"""The hot read of every polling client: one task with its stages, in one statement.

A status poll is the gateway's most frequent request; the task row and its stages used to take
two round trips (plus a pre-ping and a ROLLBACK). Here the stages ride along as a JSON
aggregate, so a poll costs one query; run it on an autocommit connection (no BEGIN/ROLLBACK)."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import TASK_COLUMNS, Stage, Task, task_from_row
from libs.tasks.store import parse_task_id

STATUS_SQL = (
    f"""SELECT {TASK_COLUMNS}, (SELECT coalesce(json_agg(s ORDER BY s.position), '[]')
        FROM (SELECT position, name, label, status, progress, started_at, completed_at, summary,
              error_message, metadata FROM task_stages WHERE task_id = t.id) s) AS stages
    FROM tasks t WHERE id = :id AND tenant_id = :tenant_id
      AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))"""
)
_STATUS = text(STATUS_SQL)


async def get_task_with_stages(
    conn: AsyncConnection, task_id: str, *, tenant_id: str, user_id: str | None = None
) -> tuple[Task, list[Stage]] | None:
    """The task and its stages if it exists and the caller may see it (as `store.get_task`)."""
    parsed = parse_task_id(task_id)
    if parsed is None:
        return None
    row = (await conn.execute(_STATUS, {"id": parsed, "tenant_id": tenant_id,
                                        "user_id": user_id})).one_or_none()
    if row is None:
        return None
    stages: list[dict[str, Any]] = row.stages
    return task_from_row(row), [msgspec.convert(s, Stage, strict=False) for s in stages]
