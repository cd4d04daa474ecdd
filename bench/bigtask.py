"""Big tasks: the engine's rate on one echo task of 1,000,000 items against its rate on 20,000
items, in the same run, on this machine's PostgreSQL as configured (autovacuum off).

    .venv/bin/python -m bench.bigtask            # 20,000 then 1,000,000 items
    BENCH_BIG_ITEMS=200000 .venv/bin/python -m bench.bigtask

The rate is items per second from the task's start to its completion. The API takes at most
100,000 echo items per task, so the tasks are inserted with the task domain's own insert
(`libs/tasks/creation.insert_task`, what the gateway runs) and started through the API."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import uvloop
from sqlalchemy import text

from bench.stack import isolated_stack
from libs.db.engine import create_engine
from libs.tasks import creation
from libs.tasks.kinds import ECHO

SMALL = 20_000
BIG = int(os.environ.get("BENCH_BIG_ITEMS", "1000000"))
CONCURRENCY = 400


async def create(database_url: str, items: int) -> tuple[str, float]:
    """(task id, seconds the insert took) of a pending echo task owned by the bench user."""
    db = create_engine(database_url, pool_size=1)
    started = time.perf_counter()
    async with db.begin() as conn:
        tenant, user = (await conn.execute(text("SELECT tenant_id, id FROM users"))).one()
        task = await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=ECHO, name=f"echo x{items}",
            items=[creation.NewItem({"value": i}) for i in range(items)],
            concurrency=CONCURRENCY, task_timeout_s=4 * 3600))  # a shared machine is slow
    await db.dispose()
    return task.id, time.perf_counter() - started


async def task_rate(client: httpx.AsyncClient, database_url: str,
                    items: int) -> tuple[float, float]:
    """(items/s from start to completion, seconds the insert took)."""
    task_id, created = await create(database_url, items)
    (await client.post(f"/api/v1/tasks/{task_id}/start")).raise_for_status()
    started = time.perf_counter()
    last_report, last_done = started, 0
    while True:
        task = (await client.get(f"/api/v1/tasks/{task_id}")).json()["data"]
        if task["status"] not in ("pending", "running"):
            break
        now = time.perf_counter()
        if now - last_report >= 30:
            done = task["completedItems"]
            print(f"  {done:,}/{items:,} items, {(done - last_done) / (now - last_report):,.0f}"
                  f"/s over the last {now - last_report:.0f}s", flush=True)
            last_report, last_done = now, done
        await asyncio.sleep(0.5)
    elapsed = time.perf_counter() - started
    assert task["status"] == "completed" and task["completedItems"] == items, task
    return items / elapsed, created


async def run() -> dict[str, float]:
    # Small pools: the machine's PostgreSQL (100 connections) is shared by every engineer.
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"],
                              {"CONVEYOR_DB_POOL_SIZE": "4"}) as (cluster, url, token):
        database_url = cluster.env["CONVEYOR_DATABASE_URL"]
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:
            await task_rate(client, database_url, 2_000)  # warm-up
            small, _ = await task_rate(client, database_url, SMALL)
            print(f"{SMALL:,} items: {small:,.0f} items/s", flush=True)
            big, created = await task_rate(client, database_url, BIG)
    ratio = big / small
    print(f"{BIG:,} items: {big:,.0f} items/s (insert {created:.1f}s); "
          f"ratio big/small {ratio:.2f}")
    return {"small_items_per_s": small, "big_items_per_s": big, "ratio": ratio,
            "big_create_s": created}


if __name__ == "__main__":
    uvloop.run(run())
