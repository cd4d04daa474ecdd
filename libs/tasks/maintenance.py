"""The engine's own upkeep of its hot table, for PostgreSQL without autovacuum (as on these
machines; some managed setups too).

Every item row is updated three times (dispatched, claimed, settled). Without VACUUM the dead
versions pile up in the heap and in the partial indexes the dispatch and lease queries walk;
without ANALYZE the planner still believes a 1,000,000-item table is empty and picks plans that
read every pending item of a task to dispatch 400 of them. Both costs grow with the task, so
the rate falls as a big task runs. `maintain()` reads the table's own counters
(pg_stat_user_tables) and runs ANALYZE or VACUUM when enough changed, which keeps the plans
right and the table about the size of its live rows. With autovacuum on it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# A lock id of the engine's upkeep: one scheduler at a time (the others skip the round).
_LOCK = 0x636F6E76  # "conv"
HOT_TABLES = ("task_items", "tasks", "outbox")  # the outbox: every message inserted, then deleted


@dataclass(frozen=True)
class TableState:
    table: str
    live: int
    dead: int
    modified_since_analyze: int


@dataclass(frozen=True)
class Thresholds:
    analyze_rows: int = 10_000  # plus `analyze_fraction` of the live rows
    analyze_fraction: float = 0.1
    vacuum_rows: int = 50_000  # plus `vacuum_fraction` of the live rows
    vacuum_fraction: float = 0.2


# A task this big changes the table's statistics by itself: analyse before its first dispatch.
BULK_INSERT_ROWS = 10_000


async def analyze_after_bulk_insert(conn: AsyncConnection, rows: int) -> None:
    """ANALYZE task_items in the transaction that inserted a big task's items. Inside the
    transaction it counts the transaction's own new rows, so the very first dispatch already
    plans against them (the periodic upkeep would come up to a few seconds too late: that
    first dispatch would read and sort every item of the task; autovacuum, where it runs, is
    later still). Costs a sample of 30,000 rows, about a second, once per big task."""
    if rows >= BULK_INSERT_ROWS:
        await conn.execute(text("ANALYZE task_items"))


async def autovacuum_on(db: AsyncEngine) -> bool:
    async with db.connect() as conn:
        return bool(await conn.scalar(text("SELECT current_setting('autovacuum')::boolean")))


async def table_states(conn: AsyncConnection) -> list[TableState]:
    rows = await conn.execute(text(
        """SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze
        FROM pg_stat_user_tables WHERE relname = ANY(:tables)
          AND schemaname = current_schema()"""), {"tables": list(HOT_TABLES)})
    return [TableState(r.relname, r.n_live_tup, r.n_dead_tup, r.n_mod_since_analyze)
            for r in rows]


def due(state: TableState, limits: Thresholds) -> str | None:
    """"VACUUM (ANALYZE)", "ANALYZE" or None for a table in this state."""
    if state.dead > limits.vacuum_rows + limits.vacuum_fraction * state.live:
        return "VACUUM (ANALYZE)"
    if state.modified_since_analyze > limits.analyze_rows + limits.analyze_fraction * state.live:
        return "ANALYZE"
    return None


async def maintain(db: AsyncEngine, limits: Thresholds = Thresholds()) -> list[str]:
    """One round: what was run, e.g. ["ANALYZE task_items"]. VACUUM cannot run in a
    transaction, hence the autocommit connection; it takes no lock that blocks the engine."""
    done: list[str] = []
    async with db.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if not await conn.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": _LOCK}):
            return done
        try:
            for state in await table_states(conn):
                command = due(state, limits)
                if command is not None and state.table in HOT_TABLES:
                    await conn.execute(text(f"{command} {state.table}"))
                    done.append(f"{command} {state.table}")
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK})
    return done
