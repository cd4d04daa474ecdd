"""All of the scheduler's SQL. Set-based on purpose: one statement per batch of results, never
one per item (a single-row commit costs ~1 ms here, which would cap the engine near 1,000/s)."""

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import TASK_COLUMNS, Task, TaskStatus, task_from_row
from proto.work import ItemResult, WorkItem

_json = msgspec.json.Encoder()


def _jsonb(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


def _keys(results: Sequence[ItemResult]) -> dict[str, list[Any]]:
    return {
        "task_ids": [r.task_id for r in results],
        "seqs": [r.seq for r in results],
        "attempts": [r.attempt for r in results],
    }


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
            """UPDATE task_items i SET
                status = CASE WHEN r.outcome = 'done' THEN 'done'
                    WHEN r.retryable AND i.attempt < t.max_attempts THEN 'pending'
                    ELSE 'failed' END,
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
              AND i.status IN ('dispatched', 'processing') AND t.id = i.task_id
            RETURNING i.task_id, i.seq, i.status"""
        ),
        {
            **_keys(results),
            "base": backoff_base_s,
            "outcomes": [r.outcome.value for r in results],
            "results": [_jsonb(r.result) for r in results],
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
            f"""UPDATE task_items i SET status = 'pending', attempt = i.attempt - 1,
                lease_until = NULL
            FROM {_MATCH} AS r(task_id, seq, attempt)
            WHERE i.task_id = r.task_id AND i.seq = r.seq AND i.attempt = r.attempt
              AND i.status = 'dispatched'
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
                  AND i.status = 'processing' AND t.id = i.task_id"""
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
            "usage": [_jsonb(d.usage) for d in deltas],
            "steps": [d.step for d in deltas],
        },
    )
    return {task.id: task for task in map(task_from_row, rows)}


async def dispatch(conn: AsyncConnection, task: Task, count: int) -> list[WorkItem]:
    """Move up to `count` eligible pending items to dispatched, with a lease long enough to
    wait in the queue; the claim shortens it to the item timeout once a worker starts."""
    rows = await conn.execute(
        text(
            """WITH picked AS (
                SELECT seq FROM task_items WHERE task_id = :id AND status = 'pending'
                  AND (not_before IS NULL OR not_before <= now())
                ORDER BY seq LIMIT :count FOR UPDATE SKIP LOCKED)
            UPDATE task_items i SET status = 'dispatched', attempt = i.attempt + 1,
                not_before = NULL,
                lease_until = now() + (4 * :timeout + 60) * interval '1 second'
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
            """UPDATE task_items i SET status = 'pending', attempt = i.attempt - 1,
                lease_until = NULL
            FROM unnest(CAST(:seqs AS int[]), CAST(:attempts AS int[])) AS m(seq, attempt)
            WHERE i.task_id = :id AND i.seq = m.seq AND i.attempt = m.attempt
              AND i.status = 'dispatched'
            RETURNING 1"""
        ),
        {"id": task_id, "seqs": [i.seq for i in items], "attempts": [i.attempt for i in items]},
    )
    released = len(result.all())
    await conn.execute(
        text("UPDATE tasks SET inflight = greatest(0, inflight - :n) WHERE id = :id"),
        {"id": task_id, "n": released},
    )


async def has_eligible_items(conn: AsyncConnection, task_id: str) -> bool:
    return bool(
        await conn.scalar(
            text(
                """SELECT EXISTS (SELECT 1 FROM task_items WHERE task_id = :id
                AND status = 'pending' AND (not_before IS NULL OR not_before <= now()))"""
            ),
            {"id": task_id},
        )
    )


async def fail_lost_items(conn: AsyncConnection, task: Task, seqs: Sequence[int]) -> Task:
    """Done items whose artifact is gone become failed (the counters follow), so retry-failed
    picks exactly them."""
    row = (await conn.execute(
        text(
            f"""WITH lost AS (
                UPDATE task_items SET status = 'failed', result = NULL, finished_at = now(),
                    error = 'OBJECT_MISSING: its output is no longer stored'
                WHERE task_id = :id AND status = 'done' AND seq = ANY(CAST(:seqs AS int[]))
                RETURNING seq)
            UPDATE tasks SET done = done - (SELECT count(*) FROM lost),
                failed = failed + (SELECT count(*) FROM lost), updated_at = now()
            WHERE id = :id RETURNING {TASK_COLUMNS}"""
        ),
        {"id": task.id, "seqs": list(seqs)},
    )).one()
    return task_from_row(row)


async def finish(conn: AsyncConnection, task: Task, status: TaskStatus,
                 error: str | None = None) -> Task:
    """End the task; `error` becomes its message unless it has one already."""
    row = (
        await conn.execute(
            text(
                f"""UPDATE tasks SET status = :status, completed_at = now(), inflight = 0,
                error_message = coalesce(error_message, CAST(:error AS text)),
                updated_at = now() WHERE id = :id RETURNING {TASK_COLUMNS}"""
            ),
            {"id": task.id, "status": status.value, "error": error},
        )
    ).one()
    return task_from_row(row)


async def sync_stages(conn: AsyncConnection, tasks: Sequence[Task]) -> None:
    """The `process` stage mirrors item progress; a finished task closes its open stages."""
    if not tasks:
        return
    await conn.execute(
        text(
            """UPDATE task_stages s SET
                progress = least(100, v.progress)::int,
                status = CASE WHEN v.finished THEN
                        CASE WHEN v.status IN ('completed', 'partial_success') THEN 'completed'
                             WHEN s.status = 'pending' THEN 'skipped' ELSE v.status END
                    WHEN v.status = 'running' THEN 'running' ELSE s.status END,
                started_at = coalesce(s.started_at, CASE WHEN v.status <> 'pending'
                    THEN now() END),
                completed_at = CASE WHEN v.finished THEN now() ELSE s.completed_at END,
                summary = v.summary
            FROM unnest(CAST(:ids AS uuid[]), CAST(:progress AS float8[]),
                        CAST(:statuses AS text[]), CAST(:finished AS boolean[]),
                        CAST(:summaries AS text[]))
                AS v(id, progress, status, finished, summary)
            WHERE s.task_id = v.id AND s.name = 'process' AND s.status NOT IN
                ('completed', 'failed', 'cancelled', 'skipped')"""
        ),
        {
            "ids": [t.id for t in tasks],
            "progress": [t.progress for t in tasks],
            "statuses": [t.status.value for t in tasks],
            "finished": [t.status.finished for t in tasks],
            "summaries": [f"{t.done} done, {t.failed} failed of {t.total}" for t in tasks],
        },
    )


async def start_finalize(conn: AsyncConnection, task: Task, timeout_s: int) -> Task:
    """Every item settled: the kind's last step starts; items' stage closes, `finalize` opens."""
    row = (
        await conn.execute(
            text(
                f"""UPDATE tasks SET finalize_state = 'running',
                    finalize_attempt = finalize_attempt + 1,
                    finalize_lease = now() + :timeout * interval '1 second',
                    current_step = 'finalizing', updated_at = now()
                WHERE id = :id RETURNING {TASK_COLUMNS}"""
            ),
            {"id": task.id, "timeout": timeout_s},
        )
    ).one()
    await conn.execute(
        text(
            """UPDATE task_stages SET
                status = CASE WHEN name = 'finalize' THEN 'running' ELSE 'completed' END,
                progress = CASE WHEN name = 'finalize' THEN 0 ELSE 100 END,
                started_at = coalesce(started_at, now()),
                completed_at = CASE WHEN name = 'finalize' THEN NULL ELSE now() END
            WHERE task_id = :id AND (name = 'finalize' OR status = 'running')"""
        ),
        {"id": task.id},
    )
    return task_from_row(row)


async def end_finalize(
    conn: AsyncConnection, task_id: str, attempt: int, *, state: str | None,
    result: dict[str, Any] | None = None, error: str | None = None,
) -> Task | None:
    """Record the outcome of finalize attempt `attempt`; a stale one changes nothing (None).
    `state` None means: not done, send it again."""
    row = (await conn.execute(
        text(
            f"""UPDATE tasks SET finalize_state = :state, finalize_lease = NULL,
                result = coalesce(CAST(:result AS jsonb), result),
                error_message = coalesce(CAST(:error AS text), error_message),
                current_step = CASE WHEN :state = 'done' THEN NULL ELSE current_step END,
                updated_at = now()
            WHERE id = :id AND finalize_state = 'running' AND finalize_attempt = :attempt
            RETURNING {TASK_COLUMNS}"""
        ),
        {"id": task_id, "attempt": attempt, "state": state, "result": _jsonb(result),
         "error": error},
    )).one_or_none()
    if row is None:
        return None
    if state is not None:
        await conn.execute(
            text(
                """UPDATE task_stages SET status = :status, completed_at = now(),
                    progress = CASE WHEN :status = 'completed' THEN 100 ELSE progress END,
                    error_message = CAST(:error AS text)
                WHERE task_id = :id AND name = 'finalize'"""
            ),
            {"id": task_id, "status": "completed" if state == "done" else "failed",
             "error": error},
        )
    return task_from_row(row)
