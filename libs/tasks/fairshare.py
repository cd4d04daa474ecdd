"""Which pending items of a route may be dispatched now: credit-based, weighted fair share.

A route (a kind's work queue) gets only as many items in flight as its live workers can start
soon: its credit (see `credit`). The rest of every task's backlog waits in PostgreSQL, where it
can still be reordered. When the running tasks want more than the credit, it is split across
tenants by weight (max-min fair, `libs/tasks/shares.py`), capped by each tenant's limit of
running items, then within a tenant by task priority (high first), equally among tasks of one
priority.

The shares are computed from the committed in-flight counts of every running task of the
route, under a transaction-scoped advisory lock per route. Every dispatch takes that lock
before it reads, so two schedulers never both spend the same free credit, and the state that
decides (`tasks.inflight`, `tenant_limits`) is in PostgreSQL only: a scheduler that dies holds
nothing. Lock order: a transaction locks its own tasks first (settlement), then the route, and
locks further tasks only with SKIP LOCKED, so it never waits for a task after the route."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import dispatch
from libs.tasks.limits import TenantDefaults
from libs.tasks.model import TASK_COLUMNS, Task, task_from_row
from libs.tasks.shares import Claim, allot
from proto.work import WorkItem

PRIORITIES = {"high": 0, "normal": 1, "low": 2}

FAIR_SHARE, TENANT_LIMIT, CAPACITY = "fair_share", "tenant_limit", "capacity"

UNITS_PER_CREDIT = 16


@dataclass(frozen=True, slots=True)
class Running:
    """A running task of the route as the allocation sees it."""

    id: str
    tenant_id: str
    priority: int
    inflight: int
    want: int  # items it could start now: room in its window and items not in flight
    weight: int
    max_items: int | None  # its tenant's limit of running items on this route
    waiting_reason: str | None
    pack: int = 1  # items per work message


@dataclass(frozen=True, slots=True)
class Plan:
    grants: dict[str, int]  # task id -> items it may dispatch now
    waiting: dict[str, str | None]  # task id -> why it waits (None: it does not)


def credit(capacity: int | None, *, buffer_ratio: float, min_buffer: int,
           default: int) -> int:
    """Items a route may have in flight: its workers' slots plus a small buffer, so a worker
    that finishes an item finds the next one already queued; `default` while no worker of the
    route reports a heartbeat (one may be starting)."""
    if not capacity:
        return default
    return capacity + max(min_buffer, int(capacity * buffer_ratio))


async def route_capacity(conn: AsyncConnection) -> dict[str, int]:
    """Slots per route from the registry's view of heartbeats: each online instance's
    `concurrency`, once for each route it consumes."""
    rows = await conn.execute(text(
        """SELECT r.route, sum((i.capabilities ->> 'concurrency')::int) AS slots
        FROM instances i, jsonb_array_elements_text(i.capabilities -> 'routes') AS r(route)
        WHERE i.status = 'online' AND jsonb_typeof(i.capabilities -> 'routes') = 'array'
          AND jsonb_typeof(i.capabilities -> 'concurrency') = 'number'
        GROUP BY r.route"""))
    return {row.route: int(row.slots) for row in rows}


async def lock_route(conn: AsyncConnection, route: str) -> None:
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('conveyor.dispatch'), "
                            "hashtext(:route))"), {"route": route})


async def running_on(conn: AsyncConnection, route: str,
                     defaults: TenantDefaults) -> list[Running]:
    rows = await conn.execute(
        text(
            """SELECT t.id, t.tenant_id, t.priority, t.inflight, t.waiting_reason, t.pack_size,
                greatest(0, least(t.concurrency - t.inflight,
                    t.total - t.done - t.failed - t.cancelled - t.inflight)) AS want,
                coalesce(l.weight, :weight) AS weight,
                coalesce(l.max_running_items, :max_items) AS max_items
            FROM tasks t LEFT JOIN tenant_limits l ON l.tenant_id = t.tenant_id
            WHERE t.status = 'running' AND t.route = :route"""
        ),
        {"route": route, "weight": defaults.weight, "max_items": defaults.max_running_items},
    )
    return [Running(id=str(r.id), tenant_id=str(r.tenant_id), priority=r.priority,
                    inflight=r.inflight, want=r.want, weight=r.weight, max_items=r.max_items,
                    waiting_reason=r.waiting_reason, pack=r.pack_size) for r in rows]


def _units(items: int, unit: int) -> int:
    return -(-items // unit)


def plan(route_credit: int, running: Sequence[Running]) -> Plan:
    """Shares are counted in work messages' worth of items (the route's smallest pack): a
    worker takes a number of messages at a time, so a share split into small messages would
    run slower than the same share in full ones. A unit stays a small part of the credit
    (1/UNITS_PER_CREDIT at most), so that weights can still be told apart."""
    smallest_pack = min((t.pack for t in running), default=1)
    unit = max(1, min(smallest_pack, route_credit // UNITS_PER_CREDIT))
    by_tenant: dict[str, list[Running]] = defaultdict(list)
    for task in running:
        by_tenant[task.tenant_id].append(task)
    tenant_claims = []
    for tenant, tasks in by_tenant.items():
        held = _units(sum(t.inflight for t in tasks), unit)
        cap = held + _units(sum(t.want for t in tasks), unit)
        limit = tasks[0].max_items
        if limit is not None:
            cap = max(held, min(cap, max(1, limit // unit)))
        tenant_claims.append(Claim(tenant, tasks[0].weight, held, cap))
    per_tenant = allot(max(1, route_credit // unit), tenant_claims)
    grants: dict[str, int] = {}
    for tenant, tasks in by_tenant.items():
        limit = tasks[0].max_items
        budget = None if limit is None else max(0, limit - sum(t.inflight for t in tasks))
        for tid, units in _within_tenant(per_tenant[tenant], tasks, unit).items():
            task_want = next(t.want for t in tasks if t.id == tid)
            items = min(units * unit, task_want, budget if budget is not None else task_want)
            grants[tid] = items
            if budget is not None:
                budget -= items
    busy_tenants = {t.tenant_id for t in running if t.inflight > 0}
    waiting: dict[str, str | None] = {}
    for task in running:
        reason = None
        if task.want > 0 and task.inflight == 0 and grants.get(task.id, 0) == 0:
            limit = task.max_items
            if limit is not None and sum(t.inflight for t in by_tenant[task.tenant_id]) >= limit:
                reason = TENANT_LIMIT
            elif busy_tenants - {task.tenant_id}:
                reason = FAIR_SHARE
            else:
                reason = CAPACITY
        waiting[task.id] = reason
    return Plan(grants=grants, waiting=waiting)


def _within_tenant(share: int, tasks: Sequence[Running], unit: int) -> dict[str, int]:
    """A tenant's new units: its higher-priority tasks first, equal among tasks of a priority
    (what lower-priority tasks already hold is kept, not preempted)."""
    grants = {t.id: 0 for t in tasks}
    for priority in sorted({t.priority for t in tasks}):
        if share <= 0:
            break
        same = [t for t in tasks if t.priority == priority]
        claims = [Claim(t.id, 1, _units(t.inflight, unit),
                        _units(t.inflight, unit) + _units(t.want, unit)) for t in same]
        given = allot(share + sum(c.held for c in claims), claims)
        grants.update(given)
        share -= sum(given.values())
    return grants


async def lock_more(conn: AsyncConnection, task_ids: Iterable[str]) -> list[Task]:
    """Running tasks this transaction does not hold yet, skipping those another holds (that
    one dispatches for them once it has the route)."""
    ids = list(task_ids)
    if not ids:
        return []
    rows = await conn.execute(
        text(f"""SELECT {TASK_COLUMNS} FROM tasks WHERE id = ANY(CAST(:ids AS uuid[]))
            AND status = 'running' ORDER BY id FOR UPDATE SKIP LOCKED"""),
        {"ids": ids},
    )
    return [task_from_row(row) for row in rows]


async def mark_waiting(conn: AsyncConnection, changes: dict[str, str | None]) -> None:
    """Record why tasks wait (or that they no longer do); the reason's start is kept while it
    changes from one reason to another."""
    if not changes:
        return
    await conn.execute(
        text("""UPDATE tasks t SET waiting_reason = m.reason,
                waiting_since = CASE WHEN m.reason IS NULL THEN NULL
                    ELSE coalesce(t.waiting_since, now()) END
            FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS m(id, reason)
            WHERE t.id = m.id"""),
        {"ids": list(changes), "reasons": list(changes.values())},
    )


async def fill(conn: AsyncConnection, route: str, held: Sequence[Task], route_credit: int,
               defaults: TenantDefaults) -> list[tuple[Task, list[WorkItem]]]:
    """Dispatch what the route's credit allows, by fair share, to the tasks `held` (locked by
    this transaction) and to any other running task of the route that is free to lock."""
    await lock_route(conn, route)
    running = await running_on(conn, route, defaults)
    decided = plan(route_credit, running)
    mine = {task.id: task for task in held}
    wanted = [tid for tid, n in decided.grants.items() if n > 0 and tid not in mine]
    changed = {r.id: decided.waiting[r.id] for r in running
               if decided.waiting[r.id] != r.waiting_reason}
    others = [tid for tid in changed if tid not in mine and tid not in wanted]
    locked = {task.id: task for task in await lock_more(conn, wanted + others)}
    await mark_waiting(conn, {tid: reason for tid, reason in changed.items()
                              if tid in mine or tid in locked})
    dispatched = []
    for tid, count in decided.grants.items():
        task = mine.get(tid) or locked.get(tid)
        if count > 0 and task is not None:
            dispatched.append((task, await dispatch.dispatch(conn, task, count)))
    return dispatched


async def queue_position(conn: AsyncConnection, task: Task) -> int | None:
    """A waiting task's place among the running tasks of its route that wait: 1 + those that
    started waiting earlier. None when it does not wait."""
    if task.waiting_reason is None or task.waiting_since is None:
        return None
    ahead = await conn.scalar(
        text("""SELECT count(*) FROM tasks WHERE status = 'running' AND route = :route
            AND waiting_since < :since"""), {"route": task.route, "since": task.waiting_since})
    return int(ahead or 0) + 1
