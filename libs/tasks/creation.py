"""Creating a task: its row, its items and its stages, in the caller's transaction."""

import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import maintenance
from libs.tasks.kinds import KindSpec
from libs.tasks.model import TASK_COLUMNS, Task, task_from_row
from libs.tasks.readers import exclusive_holder

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
    priority: int = 1  # 0 high, 1 normal, 2 low: orders the tenant's own tasks when it waits


class ExclusivityConflict(Exception):
    def __init__(self, key: str, holder_task_id: str | None) -> None:
        super().__init__(f"a task for {key} is already unfinished: {holder_task_id}")
        self.key = key
        self.holder_task_id = holder_task_id


def _task_values(task_id: str, new: NewTask) -> dict[str, Any]:
    spec = new.kind
    return {
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
        "priority": new.priority,
    }


_INSERT_TASK = text(
    f"""INSERT INTO tasks (id, tenant_id, user_id, kind, name, route, params, concurrency,
        pack_size, max_attempts, continue_on_error, item_timeout_s, task_timeout_s, autostart,
        exclusivity_key, parent_task_id, total, finalize, priority)
    VALUES (:id, :tenant_id, :user_id, :kind, :name, :route, CAST(:params AS jsonb),
        :concurrency, :pack_size, :max_attempts, :continue_on_error, :item_timeout_s,
        :task_timeout_s, :autostart, :exclusivity_key, :parent_task_id, :total, :finalize,
        :priority)
    RETURNING {TASK_COLUMNS}"""
)


async def insert_task(conn: AsyncConnection, new: NewTask) -> Task:
    """Insert a pending task. Raises `ExclusivityConflict` (naming the holder) when another
    unfinished task holds its exclusivity key."""
    task_id = str(uuid.uuid4())
    if not new.exclusivity_key:  # no conflict to recover from: no savepoint round trips
        row = (await conn.execute(_INSERT_TASK, _task_values(task_id, new))).one()
    else:
        try:  # in a savepoint, so the holder can be read in this transaction after a conflict
            async with conn.begin_nested():
                row = (await conn.execute(_INSERT_TASK, _task_values(task_id, new))).one()
        except IntegrityError as exc:
            if "tasks_exclusive" in str(exc.orig):
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
    stages = new.stages or new.kind.stages
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
