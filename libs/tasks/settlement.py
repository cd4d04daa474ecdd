"""Applying workers' reports: lock the tasks, settle, release or keep alive the items, and add
the outcome to each task's counters. Set-based on purpose: one statement per batch of results,
never one per item (a single-row commit costs ~1 ms here, which would cap the engine near
1,000 items/s)."""

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import TASK_COLUMNS, ItemStatus, Task, task_from_row
from libs.tasks.transitions import ItemAction, item_sources, item_target
from proto.work import ItemResult

_json = msgspec.json.Encoder()


def jsonb(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


def _keys(results: Sequence[ItemResult]) -> dict[str, list[Any]]:
    return {
        "task_ids": [r.task_id for r in results],
        "seqs": [r.seq for r in results],
        "attempts": [r.attempt for r in results],
    }


_SETTLE_TO = {status: item_target(ItemAction.SETTLE, status)
              for status in (ItemStatus.DONE, ItemStatus.PENDING, ItemStatus.FAILED)}

_MATCH = """unnest(CAST(:task_ids AS uuid[]), CAST(:seqs AS int[]), CAST(:attempts AS int[]))"""


async def lock_tasks(conn: AsyncConnection, task_ids: Sequence[str]) -> dict[str, Task]:
    """Lock tasks in id order. Every writer locks tasks before their items, so a cancel and a
    result batch never deadlock."""
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks WHERE id = ANY(CAST(:ids AS uuid[]))
            ORDER BY id FOR UPDATE"""
        ),
        {"ids": list(task_ids)},
    )
    return {task.id: task for task in map(task_from_row, rows)}


async def settle_items(
    conn: AsyncConnection, results: Sequence[ItemResult], *, backoff_base_s: float
) -> list[tuple[str, int, str]]:
    """Apply done/failed outcomes to items still in flight at the reported attempt; a stale or
    duplicate report matches nothing. A retryable failure with attempts left goes back to
    pending after an exponential backoff. Returns (task_id, seq, new status) per changed item."""
    if not results:
        return []
    rows = await conn.execute(
        text(
            f"""UPDATE task_items i SET
                status = CASE WHEN r.outcome = 'done' THEN {_SETTLE_TO[ItemStatus.DONE]}
                    WHEN r.retryable AND i.attempt < t.max_attempts
                        THEN {_SETTLE_TO[ItemStatus.PENDING]}
                    ELSE {_SETTLE_TO[ItemStatus.FAILED]} END,
                not_before = CASE WHEN r.outcome = 'failed' AND r.retryable
                    AND i.attempt < t.max_attempts
                    THEN now() + least(60, :base * power(2, i.attempt - 1)) * interval '1 second'
                    END,
                result = r.result, error = r.error, duration_ms = r.duration_ms,
                finished_at = now(), lease_until = NULL
            FROM tasks t, unnest(CAST(:task_ids AS uuid[]), CAST(:seqs AS int[]),
                    CAST(:attempts AS int[]), CAST(:outcomes AS text[]),
                    CAST(:results AS jsonb[]), CAST(:errors AS text[]),
                    CAST(:retryables AS boolean[]), CAST(:durations AS int[]))
                AS r(task_id, seq, attempt, outcome, result, error, retryable, duration_ms)
            WHERE i.task_id = r.task_id AND i.seq = r.seq AND i.attempt = r.attempt
              AND i.status IN {item_sources(ItemAction.SETTLE)} AND t.id = i.task_id
            RETURNING i.task_id, i.seq, i.status"""
        ),
        {
            **_keys(results),
            "base": backoff_base_s,
            "outcomes": [r.outcome.value for r in results],
            "results": [jsonb(r.result) for r in results],
            "errors": [r.error for r in results],
            "retryables": [r.retryable for r in results],
            "durations": [r.duration_ms for r in results],
        },
    )
    return [(str(row.task_id), row.seq, row.status) for row in rows]


async def release_items(
    conn: AsyncConnection, results: Sequence[ItemResult]
) -> list[tuple[str, int]]:
    """Items a worker could not claim (their task was paused) go back to pending; the attempt
    they were dispatched with does not count."""
    if not results:
        return []
    rows = await conn.execute(
        text(
            f"""UPDATE task_items i SET status = {item_target(ItemAction.RELEASE)},
                attempt = i.attempt - 1,
                lease_until = NULL
            FROM {_MATCH} AS r(task_id, seq, attempt)
            WHERE i.task_id = r.task_id AND i.seq = r.seq AND i.attempt = r.attempt
              AND i.status IN {item_sources(ItemAction.RELEASE)}
            RETURNING i.task_id, i.seq"""
        ),
        _keys(results),
    )
    return [(str(row.task_id), row.seq) for row in rows]


async def extend_leases(conn: AsyncConnection, results: Sequence[ItemResult]) -> None:
    """A progress report proves the item is alive: push its timeout back."""
    if results:
        await conn.execute(
            text(
                f"""UPDATE task_items i
                SET lease_until = now() + t.item_timeout_s * interval '1 second'
                FROM tasks t, {_MATCH} AS r(task_id, seq, attempt)
                WHERE i.task_id = r.task_id AND i.seq = r.seq AND i.attempt = r.attempt
                  AND i.status IN {item_sources(ItemAction.PROGRESS)} AND t.id = i.task_id"""
            ),
            _keys(results),
        )


class Delta(msgspec.Struct, kw_only=True):
    task_id: str
    done: int = 0
    failed: int = 0
    freed: int = 0  # no longer in flight (settled, retried or released)
    usage: dict[str, float] = {}
    step: str | None = None


async def apply_deltas(conn: AsyncConnection, deltas: Sequence[Delta]) -> dict[str, Task]:
    if not deltas:
        return {}
    rows = await conn.execute(
        text(
            f"""UPDATE tasks t SET done = t.done + d.done, failed = t.failed + d.failed,
                inflight = greatest(0, t.inflight - d.freed),
                usage = CASE WHEN d.usage = '{{}}'::jsonb THEN t.usage
                    ELSE jsonb_sum(t.usage, d.usage) END,
                current_step = coalesce(d.step, t.current_step), updated_at = now()
            FROM unnest(CAST(:ids AS uuid[]), CAST(:done AS int[]), CAST(:failed AS int[]),
                    CAST(:freed AS int[]), CAST(:usage AS jsonb[]), CAST(:steps AS text[]))
                AS d(id, done, failed, freed, usage, step)
            WHERE t.id = d.id
            RETURNING {", ".join("t." + c.strip() for c in TASK_COLUMNS.split(","))}"""
        ),
        {
            "ids": [d.task_id for d in deltas],
            "done": [d.done for d in deltas],
            "failed": [d.failed for d in deltas],
            "freed": [d.freed for d in deltas],
            "usage": [jsonb(d.usage) for d in deltas],
            "steps": [d.step for d in deltas],
        },
    )
    return {task.id: task for task in map(task_from_row, rows)}
