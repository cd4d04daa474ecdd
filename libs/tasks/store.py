"""Task creation, reads and user commands (start, pause, resume, cancel, retry-failed).

Repository functions: they take a connection and never commit; the caller's transaction
decides. Reads are always scoped by tenant (and by user unless the caller is an admin)."""

import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import maintenance
from libs.tasks.kinds import KindSpec
from libs.tasks.model import (
    TASK_COLUMNS,
    Item,
    Stage,
    Task,
    TaskStatus,
    task_from_row,
)

_json = msgspec.json.Encoder()


class NewItem(msgspec.Struct, frozen=True):
    payload: dict[str, Any]
    group_key: str | None = None


class NewTask(msgspec.Struct, kw_only=True):
    tenant_id: str
    user_id: str
    kind: KindSpec
    name: str
    items: list[NewItem]
    params: dict[str, Any] = {}
    concurrency: int | None = None
    max_attempts: int | None = None
    continue_on_error: bool = True
    autostart: bool = False
    exclusivity_key: str | None = None
    parent_task_id: str | None = None
    route: str | None = None  # e.g. one registered server's own queue
    stages: tuple[tuple[str, str], ...] | None = None
    item_timeout_s: int | None = None
    task_timeout_s: int | None = None
    finalize: bool | None = None  # the kind's default unless set
    pack_size: int | None = None


class ExclusivityConflict(Exception):
    def __init__(self, key: str, holder_task_id: str | None) -> None:
        super().__init__(f"a task for {key} is already unfinished: {holder_task_id}")
        self.key = key
        self.holder_task_id = holder_task_id


class InvalidTransition(Exception):
    def __init__(self, task: Task, action: str) -> None:
        super().__init__(f"cannot {action} a task that is {task.status}")
        self.task = task
        self.action = action


async def insert_task(conn: AsyncConnection, new: NewTask) -> Task:
    spec = new.kind
    task_id = str(uuid.uuid4())
    values = {
        "id": task_id,
        "tenant_id": new.tenant_id,
        "user_id": new.user_id,
        "kind": spec.name,
        "name": new.name,
        "route": new.route or spec.route,
        "params": _json.encode(new.params).decode(),
        "concurrency": min(new.concurrency or spec.concurrency, spec.max_concurrency),
        "pack_size": new.pack_size or spec.pack_size,
        "finalize": spec.finalize if new.finalize is None else new.finalize,
        "max_attempts": new.max_attempts or spec.max_attempts,
        "continue_on_error": new.continue_on_error,
        "item_timeout_s": new.item_timeout_s or spec.item_timeout_s,
        "task_timeout_s": new.task_timeout_s or spec.task_timeout_s,
        "autostart": new.autostart,
        "exclusivity_key": new.exclusivity_key,
        "parent_task_id": new.parent_task_id,
        "total": len(new.items),
    }
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    text(
                        f"""INSERT INTO tasks (id, tenant_id, user_id, kind, name, route, params,
                            concurrency, pack_size, max_attempts, continue_on_error,
                            item_timeout_s, task_timeout_s, autostart, exclusivity_key,
                            parent_task_id, total, finalize)
                        VALUES (:id, :tenant_id, :user_id, :kind, :name, :route,
                            CAST(:params AS jsonb), :concurrency, :pack_size, :max_attempts,
                            :continue_on_error, :item_timeout_s, :task_timeout_s, :autostart,
                            :exclusivity_key, :parent_task_id, :total, :finalize)
                        RETURNING {TASK_COLUMNS}"""
                    ),
                    values,
                )
            ).one()
    except IntegrityError as exc:
        if new.exclusivity_key and "tasks_exclusive" in str(exc.orig):
            raise ExclusivityConflict(
                new.exclusivity_key, await exclusive_holder(conn, new.exclusivity_key)
            ) from exc
        raise
    await conn.execute(
        text(
            """INSERT INTO task_items (task_id, seq, group_key, payload)
            SELECT :task_id, u.seq, u.group_key, u.payload
            FROM unnest(CAST(:seqs AS int[]), CAST(:groups AS text[]), CAST(:payloads AS jsonb[]))
                AS u(seq, group_key, payload)"""
        ),
        {
            "task_id": task_id,
            "seqs": list(range(len(new.items))),
            "groups": [item.group_key for item in new.items],
            "payloads": [_json.encode(item.payload).decode() for item in new.items],
        },
    )
    stages = new.stages or spec.stages
    await conn.execute(
        text(
            """INSERT INTO task_stages (task_id, position, name, label)
            SELECT :task_id, u.position, u.name, u.label
            FROM unnest(CAST(:positions AS int[]), CAST(:names AS text[]),
                        CAST(:labels AS text[])) AS u(position, name, label)"""
        ),
        {
            "task_id": task_id,
            "positions": list(range(len(stages))),
            "names": [name for name, _ in stages],
            "labels": [label for _, label in stages],
        },
    )
    await maintenance.analyze_after_bulk_insert(conn, len(new.items))
    return task_from_row(row)


async def exclusive_holder(conn: AsyncConnection, key: str) -> str | None:
    holder = await conn.scalar(
        text(
            """SELECT id FROM tasks WHERE exclusivity_key = :key
            AND status IN ('pending', 'running', 'paused')"""
        ),
        {"key": key},
    )
    return str(holder) if holder else None


def parse_task_id(task_id: str) -> str | None:
    """The canonical form of a task id, or None when it is not one (an unknown task)."""
    try:
        return str(uuid.UUID(task_id))
    except ValueError:
        return None


async def get_task(
    conn: AsyncConnection, task_id: str, *, tenant_id: str, user_id: str | None = None,
    for_update: bool = False,
) -> Task | None:
    """The task if it exists and the caller may see it (`user_id=None`: any user of the tenant)."""
    parsed = parse_task_id(task_id)
    if parsed is None:
        return None
    row = (
        await conn.execute(
            text(
                f"""SELECT {TASK_COLUMNS} FROM tasks WHERE id = :id AND tenant_id = :tenant_id
                AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))
                {"FOR UPDATE" if for_update else ""}"""
            ),
            {"id": parsed, "tenant_id": tenant_id, "user_id": user_id},
        )
    ).one_or_none()
    return task_from_row(row) if row else None


async def list_tasks(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    user_id: str | None,
    status: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 10,
) -> tuple[int, list[Task]]:
    where = """tenant_id = :tenant_id
        AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))
        AND (CAST(:status AS text) IS NULL OR status = :status)
        AND (CAST(:kind AS text) IS NULL OR kind = :kind)"""
    params = {"tenant_id": tenant_id, "user_id": user_id, "status": status, "kind": kind}
    total = await conn.scalar(text(f"SELECT count(*) FROM tasks WHERE {where}"), params)
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks WHERE {where}
            ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset"""
        ),
        {**params, "limit": limit, "offset": offset},
    )
    return int(total or 0), [task_from_row(row) for row in rows]


async def get_stages(conn: AsyncConnection, task_id: str) -> list[Stage]:
    rows = await conn.execute(
        text(
            """SELECT position, name, label, status, progress, started_at, completed_at,
            summary, error_message, metadata FROM task_stages WHERE task_id = :id
            ORDER BY position"""
        ),
        {"id": task_id},
    )
    return [msgspec.convert(dict(row._mapping), Stage, strict=False) for row in rows]


async def get_items(
    conn: AsyncConnection, task_id: str, *, status: str | None = None, offset: int = 0,
    limit: int = 100,
) -> list[Item]:
    rows = await conn.execute(
        text(
            """SELECT seq, status, attempt, group_key, result, error, started_at, finished_at,
            duration_ms FROM task_items WHERE task_id = :id
            AND (CAST(:status AS text) IS NULL OR status = :status)
            ORDER BY seq LIMIT :limit OFFSET :offset"""
        ),
        {"id": task_id, "status": status, "limit": limit, "offset": offset},
    )
    return [msgspec.convert(dict(row._mapping), Item, strict=False) for row in rows]


async def _transition(
    conn: AsyncConnection, task: Task, action: str, sets: str, allowed: tuple[TaskStatus, ...]
) -> Task:
    row = (
        await conn.execute(
            text(
                f"""UPDATE tasks SET {sets}, updated_at = now()
                WHERE id = :id AND status = ANY(CAST(:allowed AS text[]))
                RETURNING {TASK_COLUMNS}"""
            ),
            {"id": task.id, "allowed": [status.value for status in allowed]},
        )
    ).one_or_none()
    if row is None:
        raise InvalidTransition(task, action)
    return task_from_row(row)


async def start(conn: AsyncConnection, task: Task) -> Task:
    return await _transition(
        conn, task, "start",
        """status = 'running', started_at = now(),
        deadline_at = now() + task_timeout_s * interval '1 second'""",
        (TaskStatus.PENDING,),
    )


async def pause(conn: AsyncConnection, task: Task) -> Task:
    return await _transition(
        conn, task, "pause", "status = 'paused', paused_at = now()", (TaskStatus.RUNNING,)
    )


async def resume(conn: AsyncConnection, task: Task) -> Task:
    # Paused time neither counts towards the task's timeout nor its ETA.
    return await _transition(
        conn, task, "resume",
        """status = 'running',
        paused_ms = paused_ms + (extract(epoch FROM now() - paused_at) * 1000)::bigint,
        deadline_at = deadline_at + (now() - paused_at), paused_at = NULL""",
        (TaskStatus.PAUSED,),
    )


async def cancel(conn: AsyncConnection, task: Task) -> Task:
    """Cancel at once: unstarted items are cancelled, results of in-flight ones discarded."""
    return await stop_task(conn, task, TaskStatus.CANCELLED, "cancel")


async def stop_task(
    conn: AsyncConnection, task: Task, status: TaskStatus, action: str, error: str | None = None
) -> Task:
    """End an unfinished task now (cancelled, or failed by a timeout or a fatal item)."""
    locked = await conn.scalar(
        text("SELECT status FROM tasks WHERE id = :id FOR UPDATE"), {"id": task.id}
    )
    if locked is None or TaskStatus(locked).finished:
        raise InvalidTransition(task, action)
    cancelled = await conn.scalar(
        text(
            """WITH c AS (UPDATE task_items SET status = 'cancelled', finished_at = now(),
                lease_until = NULL
            WHERE task_id = :id AND status IN ('pending', 'dispatched', 'processing')
            RETURNING 1) SELECT count(*) FROM c"""
        ),
        {"id": task.id},
    )
    row = (
        await conn.execute(
            text(
                f"""UPDATE tasks SET status = :status, completed_at = now(), inflight = 0,
                cancelled = cancelled + :cancelled,
                error_message = coalesce(CAST(:error AS text), error_message),
                paused_ms = paused_ms + coalesce(
                    (extract(epoch FROM now() - paused_at) * 1000)::bigint, 0),
                paused_at = NULL, updated_at = now()
                WHERE id = :id RETURNING {TASK_COLUMNS}"""
            ),
            {"id": task.id, "status": status.value, "cancelled": int(cancelled or 0),
             "error": error},
        )
    ).one()
    return task_from_row(row)


async def failed_items(conn: AsyncConnection, task_id: str) -> list[tuple[int, NewItem]]:
    """The failed items of a task, with their seq in it, for a retry task."""
    rows = await conn.execute(
        text(
            """SELECT seq, payload, group_key FROM task_items WHERE task_id = :id
            AND status = 'failed' ORDER BY seq"""
        ),
        {"id": task_id},
    )
    return [(row.seq, NewItem(payload=row.payload, group_key=row.group_key)) for row in rows]


async def group_counts(conn: AsyncConnection, task_id: str) -> dict[str, dict[str, int]]:
    """Item counts by group (e.g. per template) and status."""
    rows = await conn.execute(
        text(
            """SELECT group_key, status, count(*) AS n FROM task_items WHERE task_id = :id
            GROUP BY group_key, status"""
        ),
        {"id": task_id},
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row.group_key or "", {})[row.status] = row.n
    return counts
