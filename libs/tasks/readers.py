"""Every read of the task tables, with the options each kind needs: tasks by filter, one
task (scoped to its tenant and user, or internal), stages, items (with or without payloads),
item counts, and which unfinished task holds an exclusivity key.

Reads scoped for an API caller always name the tenant (and the user unless the caller is an
admin); `find_task` is for services acting on a task id they received from the engine."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import (
    TASK_COLUMNS,
    UNFINISHED,
    Item,
    Stage,
    Task,
    Transition,
    task_from_mapping,
    task_from_row,
)
from libs.tasks.transitions import sql_states


class TaskFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which tasks of a tenant: every condition left None matches everything."""

    tenant_id: str
    user_id: str | None = None  # None: every user of the tenant
    kind: str | None = None
    statuses: Collection[str] | None = None
    exclusivity_key: str | None = None
    # (params key, value): tasks whose `params[key]` (an array or object) holds `value`.
    params_hold: tuple[str, str] | None = None
    running_stage: str | None = None  # tasks whose stage of this name is running


_WHERE = """tenant_id = :tenant_id
    AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))
    AND (CAST(:kind AS text) IS NULL OR kind = :kind)
    AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
    AND (CAST(:exclusivity_key AS text) IS NULL OR exclusivity_key = :exclusivity_key)
    AND (CAST(:params_key AS text) IS NULL
         OR params -> CAST(:params_key AS text) ? CAST(:params_value AS text))
    AND (CAST(:running_stage AS text) IS NULL OR EXISTS (SELECT 1 FROM task_stages rs
         WHERE rs.task_id = tasks.id AND rs.name = :running_stage AND rs.status = 'running'))"""


def _where_params(where: TaskFilter) -> dict[str, Any]:
    key, value = where.params_hold or (None, None)
    return {"tenant_id": where.tenant_id, "user_id": where.user_id, "kind": where.kind,
            "statuses": None if where.statuses is None else sorted(where.statuses),
            "exclusivity_key": where.exclusivity_key, "params_key": key, "params_value": value,
            "running_stage": where.running_stage}


async def list_tasks(
    conn: AsyncConnection, where: TaskFilter, *, offset: int = 0, limit: int = 10
) -> list[Task]:
    """Newest first."""
    rows = await conn.execute(
        text(
            f"""SELECT {TASK_COLUMNS} FROM tasks WHERE {_WHERE}
            ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset"""
        ),
        {**_where_params(where), "limit": limit, "offset": offset},
    )
    return [task_from_row(row) for row in rows]


async def count_tasks(conn: AsyncConnection, where: TaskFilter) -> int:
    total = await conn.scalar(text(f"SELECT count(*) FROM tasks WHERE {_WHERE}"),
                              _where_params(where))
    return int(total or 0)


def _parse_id(task_id: str) -> str | None:
    try:
        return str(uuid.UUID(task_id))
    except ValueError:
        return None


async def get_task(
    conn: AsyncConnection, task_id: str, *, tenant_id: str, user_id: str | None = None,
    for_update: bool = False,
) -> Task | None:
    """The task if it exists and the caller may see it (`user_id=None`: any user of the tenant)."""
    parsed = _parse_id(task_id)
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


async def find_task(conn: AsyncConnection, task_id: str, *, kind: str) -> Task | None:
    """A task of `kind` by id alone, for a service handling an engine event about it."""
    parsed = _parse_id(task_id)
    if parsed is None:
        return None
    row = (
        await conn.execute(
            text(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = :id AND kind = :kind"),
            {"id": parsed, "kind": kind},
        )
    ).one_or_none()
    return task_from_row(row) if row else None


# The status poll (the gateway's most frequent request) in one statement: the task scoped by
# tenant (and user unless None), its stages as a JSON aggregate. Positional parameters: it runs
# on the driver connection (libs/db/driver.py), which `get_task_with_stages` takes.
STATUS_SQL = (
    f"""SELECT {TASK_COLUMNS}, (SELECT coalesce(json_agg(s ORDER BY s.position), '[]')
        FROM (SELECT position, name, label, status, progress, started_at, completed_at, summary,
              error_message, metadata FROM task_stages WHERE task_id = t.id) s) AS stages
    FROM tasks t WHERE id = $1 AND tenant_id = CAST($2 AS uuid)
      AND (CAST($3 AS uuid) IS NULL OR user_id = CAST($3 AS uuid))"""
)


async def get_task_with_stages(
    driver: Any, task_id: str, *, tenant_id: str, user_id: str | None = None
) -> tuple[Task, list[Stage]] | None:
    """`get_task` and `get_stages` in one round trip, on an asyncpg connection (the engine's
    codecs decode the stages' JSON): what a status poll costs is the statement's, not
    SQLAlchemy's statement and result layers'."""
    try:
        parsed = uuid.UUID(task_id)
    except ValueError:
        return None
    record = await driver.fetchrow(STATUS_SQL, parsed, tenant_id, user_id)
    if record is None:
        return None
    values = dict(record)
    stages: list[dict[str, Any]] = values.pop("stages")
    return task_from_mapping(values), msgspec.convert(stages, list[Stage], strict=False)


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


async def get_transitions(conn: AsyncConnection, task_id: str,
                          limit: int = 1000) -> list[Transition]:
    """The task's status changes, oldest first (its timeline)."""
    rows = await conn.execute(
        text(
            """SELECT action, status, error, at FROM task_transitions WHERE task_id = :id
            ORDER BY id LIMIT :limit"""
        ),
        {"id": task_id, "limit": limit},
    )
    return [msgspec.convert(dict(row._mapping), Transition, strict=False) for row in rows]


async def get_items(
    conn: AsyncConnection, task_id: str, *, statuses: Collection[str] | None = None,
    seq: int | None = None, with_payload: bool = False, offset: int = 0,
    limit: int | None = None,
) -> list[Item]:
    """A task's items in seq order; payloads (which can be large) only when asked for."""
    rows = await conn.execute(
        text(
            f"""SELECT seq, status, attempt, group_key, result, error, started_at, finished_at,
            duration_ms, {"payload" if with_payload else "NULL AS payload"}
            FROM task_items WHERE task_id = :id
            AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
            AND (CAST(:seq AS int) IS NULL OR seq = :seq)
            ORDER BY seq LIMIT CAST(:limit AS bigint) OFFSET :offset"""
        ),
        {"id": task_id, "statuses": None if statuses is None else sorted(statuses),
         "seq": seq, "limit": limit, "offset": offset},
    )
    return [msgspec.convert(dict(row._mapping), Item, strict=False) for row in rows]


async def payload_fields(conn: AsyncConnection, task_id: str, seqs: Collection[int],
                         keys: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Some fields of some items' payloads (without the rest, which can be large), by seq."""
    if not seqs:
        return {}
    rows = await conn.execute(
        text(
            """SELECT seq, (SELECT jsonb_object_agg(k, payload -> k)
                FROM unnest(CAST(:keys AS text[])) AS k WHERE payload ? k) AS fields
            FROM task_items WHERE task_id = :id AND seq = ANY(CAST(:seqs AS int[]))"""
        ),
        {"id": task_id, "seqs": sorted(seqs), "keys": list(keys)},
    )
    return {row.seq: row.fields or {} for row in rows}


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


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    tenant_id: str
    user_id: str


async def exclusive_holders(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, Holder]:
    """The unfinished task holding each of `keys` (at most one each, by a unique index)."""
    if not keys:
        return {}
    rows = await conn.execute(
        text(
            f"""SELECT exclusivity_key, id, tenant_id, user_id FROM tasks
            WHERE exclusivity_key = ANY(CAST(:keys AS text[]))
            AND status IN {sql_states(UNFINISHED)}"""
        ),
        {"keys": list(keys)},
    )
    return {row.exclusivity_key: Holder(task_id=str(row.id), tenant_id=str(row.tenant_id),
                                        user_id=str(row.user_id)) for row in rows}


async def exclusive_holder(conn: AsyncConnection, key: str) -> str | None:
    holder = (await exclusive_holders(conn, [key])).get(key)
    return holder.task_id if holder else None


async def visible_task_ids(
    conn: AsyncConnection, task_ids: Collection[str], *, tenant_id: str, user_id: str | None
) -> set[str]:
    """Which of `task_ids` the caller may see (of the tenant; of the user unless None)."""
    if not task_ids:
        return set()
    rows = await conn.execute(
        text(
            """SELECT id FROM tasks WHERE id = ANY(CAST(:ids AS uuid[]))
            AND tenant_id = :tenant_id
            AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))"""
        ),
        {"ids": sorted(task_ids), "tenant_id": tenant_id, "user_id": user_id},
    )
    return {str(row.id) for row in rows}
