"""The engine's table upkeep without autovacuum: what changed enough is analysed or vacuumed,
once (the counters it reads are reset by what it runs), and the planner then knows the table."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from libs.db.engine import create_engine
from libs.tasks import creation, maintenance
from libs.tasks.kinds import ECHO
from tests.harness.tenants import new_tenant

SMALL = maintenance.Thresholds(analyze_rows=500, vacuum_rows=1000)


def test_what_is_due_follows_the_thresholds() -> None:
    def state(live: int, dead: int, modified: int) -> maintenance.TableState:
        return maintenance.TableState("task_items", live, dead, modified)

    limits = maintenance.Thresholds()
    assert maintenance.due(state(1_000_000, 10_000, 5_000), limits) is None
    assert maintenance.due(state(0, 0, 1_000_000), limits) == "ANALYZE"  # a big task arrived
    assert maintenance.due(state(1_000_000, 260_000, 0), limits) == "VACUUM (ANALYZE)"
    assert maintenance.due(state(1_000_000, 240_000, 0), limits) is None


async def test_a_big_task_is_analysed_before_its_first_dispatch(database_url: str) -> None:
    """The insert of a task of 10,000+ items analyses the table in its own transaction: the
    dispatch query's plan is the ordered index scan that stops after the window."""
    db = create_engine(database_url, pool_size=2)
    async with db.begin() as conn:
        tenant, user = await new_tenant(conn, "bulk")
        task = await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=ECHO, name="bulk",
            items=[creation.NewItem({"value": i}) for i in range(maintenance.BULK_INSERT_ROWS)]))
    async with db.connect() as conn:
        assert await conn.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'task_items'")) >= 10_000
        plan = "\n".join((await conn.execute(text(
            """EXPLAIN SELECT seq FROM task_items WHERE task_id = :id AND status = 'pending'
            AND (not_before IS NULL OR not_before <= now()) ORDER BY seq LIMIT 400
            FOR UPDATE SKIP LOCKED"""), {"id": task.id})).scalars())
    await db.dispose()
    assert "Index Scan using task_items_pending" in plan and "Sort" not in plan, plan


async def _wait_for(db, check, within_s: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    while True:
        async with db.connect() as conn:
            states = {s.table: s for s in await maintenance.table_states(conn)}
        if check(states):
            return states
        assert time.monotonic() < deadline, states
        await asyncio.sleep(0.2)


async def test_a_big_insert_is_analysed_and_churn_is_vacuumed(database_url: str) -> None:
    db = create_engine(database_url, pool_size=2)
    assert not await maintenance.autovacuum_on(db)  # as on these machines
    async with db.begin() as conn:
        tenant, user = await new_tenant(conn, "upkeep")
        task = await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=ECHO, name="big",
            items=[creation.NewItem({"value": i}) for i in range(5000)]))
    # Statistics reach pg_stat_user_tables within a second of the commit.
    await _wait_for(db, lambda s: s["task_items"].modified_since_analyze >= 5000)
    # ANALYZE alone, or VACUUM (ANALYZE) when earlier work left dead rows: both refresh the stats.
    done = await maintenance.maintain(db, SMALL)
    assert {"ANALYZE task_items", "VACUUM (ANALYZE) task_items"} & set(done), done
    async with db.connect() as conn:
        estimate = await conn.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'task_items'"))
    assert estimate >= 5000, "the planner still thinks the table is small"

    for status in ("dispatched", "done"):  # the engine's churn: dead versions pile up
        async with db.begin() as conn:
            await conn.execute(text("UPDATE task_items SET status = :s WHERE task_id = :id"),
                               {"s": status, "id": task.id})
    await _wait_for(db, lambda s: s["task_items"].dead >= 10_000)
    assert "VACUUM (ANALYZE) task_items" in await maintenance.maintain(db, SMALL)
    states = await _wait_for(db, lambda s: s["task_items"].dead < 1000)
    assert "task_items" not in " ".join(await maintenance.maintain(db, SMALL)), states
    await db.dispose()
