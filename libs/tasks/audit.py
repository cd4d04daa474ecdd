"""Whole-database reads of the task tables for checks that every task ended and every counter
matches its items (the chaos soak's verifier): meant for a test or benchmark database, not a
production one (they read every row)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import UNFINISHED
from libs.tasks.transitions import sql_states


async def unfinished_count(conn: AsyncConnection) -> int:
    return int(await conn.scalar(text(
        f"SELECT count(*) FROM tasks WHERE status IN {sql_states(UNFINISHED)}")) or 0)


async def every_task_and_item(conn: AsyncConnection) -> tuple[Sequence[Any], Sequence[Any]]:
    """Every task's counters (id, kind, status, total, done, failed, inflight) and every
    item's (task_id, seq, status, result)."""
    tasks = (await conn.execute(text(
        "SELECT id, kind, status, total, done, failed, inflight FROM tasks"))).all()
    items = (await conn.execute(text(
        "SELECT task_id, seq, status, result FROM task_items"))).all()
    return tasks, items
