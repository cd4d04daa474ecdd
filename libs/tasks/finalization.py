"""A kind's last step once every item settled (e.g. packaging a ZIP), and the stages that show
a task's progress: `process` mirrors the items, `finalize` the last step."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import FINISHED, TASK_COLUMNS, Task, task_from_row
from libs.tasks.settlement import jsonb
from libs.tasks.transitions import (
    CLOSED_STAGES,
    FinalizeAction,
    ItemAction,
    StageAction,
    StageStatus,
    finalize_sources,
    finalize_target,
    item_sources,
    item_target,
    sql_states,
    stage_target,
)

_COMPLETED = stage_target(StageAction.CLOSE, StageStatus.COMPLETED)
_SKIPPED = stage_target(StageAction.CLOSE, StageStatus.SKIPPED)
_RUNNING = stage_target(StageAction.OPEN)


async def sync_stages(conn: AsyncConnection, tasks: Sequence[Task]) -> None:
    """The `process` stage mirrors item progress; a finished task closes its open stages."""
    if not tasks:
        return
    await conn.execute(
        text(
            f"""UPDATE task_stages s SET
                progress = least(100, v.progress)::int,
                status = CASE WHEN v.finished THEN
                        CASE WHEN v.status IN ('completed', 'partial_success') THEN {_COMPLETED}
                             WHEN s.status = 'pending' THEN {_SKIPPED} ELSE v.status END
                    WHEN v.status = 'running' THEN {_RUNNING} ELSE s.status END,
                started_at = coalesce(s.started_at, CASE WHEN v.status <> 'pending'
                    THEN now() END),
                completed_at = CASE WHEN v.finished THEN now() ELSE s.completed_at END,
                summary = v.summary
            FROM unnest(CAST(:ids AS uuid[]), CAST(:progress AS float8[]),
                        CAST(:statuses AS text[]), CAST(:finished AS boolean[]),
                        CAST(:summaries AS text[]))
                AS v(id, progress, status, finished, summary)
            WHERE s.task_id = v.id AND s.name = 'process'
              AND s.status NOT IN {sql_states(CLOSED_STAGES)}"""
        ),
        {
            "ids": [t.id for t in tasks],
            "progress": [t.progress for t in tasks],
            "statuses": [t.status.value for t in tasks],
            "finished": [t.status in FINISHED for t in tasks],
            "summaries": [f"{t.done} done, {t.failed} failed of {t.total}" for t in tasks],
        },
    )


async def start_finalize(conn: AsyncConnection, task: Task, timeout_s: int) -> Task:
    """Every item settled: the kind's last step starts; items' stage closes, `finalize` opens."""
    row = (
        await conn.execute(
            text(
                f"""UPDATE tasks SET finalize_state = :state,
                    finalize_attempt = finalize_attempt + 1,
                    finalize_lease = now() + :timeout * interval '1 second',
                    current_step = 'finalizing', updated_at = now()
                WHERE id = :id AND status = 'running'
                  AND {finalize_sources(FinalizeAction.START)} RETURNING {TASK_COLUMNS}"""
            ),
            {"id": task.id, "timeout": timeout_s,
             "state": str(finalize_target(FinalizeAction.START, "running"))},
        )
    ).one()
    await conn.execute(
        text(
            f"""UPDATE task_stages SET
                status = CASE WHEN name = 'finalize' THEN {_RUNNING} ELSE {_COMPLETED} END,
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
    action = FinalizeAction.RETRY if state is None else FinalizeAction.END
    finalize_target(action, state)
    row = (await conn.execute(
        text(
            f"""UPDATE tasks SET finalize_state = :state, finalize_lease = NULL,
                result = coalesce(CAST(:result AS jsonb), result),
                error_message = coalesce(CAST(:error AS text), error_message),
                current_step = CASE WHEN :state = 'done' THEN NULL ELSE current_step END,
                updated_at = now()
            WHERE id = :id AND {finalize_sources(action)} AND finalize_attempt = :attempt
            RETURNING {TASK_COLUMNS}"""
        ),
        {"id": task_id, "attempt": attempt, "state": state, "result": jsonb(result),
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
            {"id": task_id,
             "status": (StageStatus.COMPLETED if state == "done" else StageStatus.FAILED).value,
             "error": error},
        )
    return task_from_row(row)


async def fail_lost_items(conn: AsyncConnection, task: Task, seqs: Sequence[int]) -> Task:
    """Done items whose artifact is gone (the finalize step found it missing) become failed,
    and the counters follow, so retry-failed picks exactly them."""
    row = (await conn.execute(
        text(
            f"""WITH lost AS (
                UPDATE task_items SET status = {item_target(ItemAction.LOSE)}, result = NULL,
                    finished_at = now(),
                    error = 'OBJECT_MISSING: its output is no longer stored'
                WHERE task_id = :id AND status IN {item_sources(ItemAction.LOSE)}
                  AND seq = ANY(CAST(:seqs AS int[]))
                RETURNING seq)
            UPDATE tasks SET done = done - (SELECT count(*) FROM lost),
                failed = failed + (SELECT count(*) FROM lost), updated_at = now()
            WHERE id = :id RETURNING {TASK_COLUMNS}"""
        ),
        {"id": task.id, "seqs": list(seqs)},
    )).one()
    return task_from_row(row)
