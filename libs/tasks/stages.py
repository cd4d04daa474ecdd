"""Stages a kind's worker moves along itself (e.g. codegen's four agents), and the stages of a
page of tasks at once (a list that shows each task's current stage)."""

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import Stage
from libs.tasks.settlement import jsonb


async def set_stage(
    conn: AsyncConnection, task_id: str, name: str, *, status: str, progress: int,
    summary: str | None = None, error: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Record stage `name` of an unfinished task; `running` (re)starts its clock, a closed
    status stops it. False when the task ended (cancelled, failed, timed out): its worker
    should stop, and nothing was written. A paused task's item in flight carries on, as every
    kind's does (a pause holds back items not started yet)."""
    row = await conn.execute(
        text(
            """UPDATE task_stages s SET status = :status, progress = :progress,
                summary = coalesce(CAST(:summary AS text), s.summary),
                error_message = CAST(:error AS text),
                metadata = s.metadata || coalesce(CAST(:metadata AS jsonb), '{}'::jsonb),
                started_at = CASE WHEN :status = 'running' AND s.status <> 'running'
                    THEN now() ELSE coalesce(s.started_at, now()) END,
                completed_at = CASE WHEN :status IN ('completed', 'failed', 'skipped')
                    THEN now() END
            FROM tasks t
            WHERE s.task_id = :id AND s.name = :name AND t.id = s.task_id
              AND t.status IN ('running', 'paused')
            RETURNING 1"""
        ),
        {"id": task_id, "name": name, "status": status, "progress": progress,
         "summary": summary, "error": error, "metadata": jsonb(metadata)},
    )
    return row.first() is not None


async def stages_of(conn: AsyncConnection, task_ids: Sequence[str]) -> dict[str, list[Stage]]:
    """Every stage of `task_ids`, by task, in order."""
    if not task_ids:
        return {}
    rows = await conn.execute(
        text(
            """SELECT task_id, position, name, label, status, progress, started_at,
            completed_at, summary, error_message, metadata FROM task_stages
            WHERE task_id = ANY(CAST(:ids AS uuid[])) ORDER BY task_id, position"""
        ),
        {"ids": list(task_ids)},
    )
    found: dict[str, list[Stage]] = {}
    for row in rows:
        values = dict(row._mapping)
        task_id = str(values.pop("task_id"))
        found.setdefault(task_id, []).append(msgspec.convert(values, Stage, strict=False))
    return found
