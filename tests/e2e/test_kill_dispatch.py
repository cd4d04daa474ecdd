"""kill -9 of the scheduler at a random point of dispatch, again and again: no item stays
dispatched without its work message. A dispatch and its message commit together (the
outbox), so whatever a killed scheduler committed is published by another process's relay
(here the gateway's) within its poll, and the worker claims it.

CONVEYOR_TEST_KILL_LOOPS sets the number of kills (5 by default, up to 50)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.engine import create_engine
from tests.e2e.conftest import FAST, Api
from tests.harness import Cluster, S3Endpoint, ServiceHandle, create_user
from tests.harness.own import own_cluster

LOOPS = min(50, max(1, int(os.environ.get("CONVEYOR_TEST_KILL_LOOPS", "5"))))
STRANDED_AT_MOST_S = 1.0
ITEMS, WINDOW = 1500, 30


@dataclass
class Killable:
    cluster: Cluster
    api: Api
    db: AsyncEngine


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def killable(run_id: str, s3: S3Endpoint,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Killable]:
    workdir = tmp_path_factory.mktemp("kill")
    async with own_cluster("kill", run_id, s3, workdir, {**FAST,
                           "CONVEYOR_OUTBOX_POLL_S": "0.2"}) as cluster:
        for name in ("registry", "scheduler", "echo"):
            await cluster.wait_ready(await cluster.start(name))
        await cluster.start("gateway")
        token = await create_user(cluster.env, "kill", "kim")
        db = create_engine(cluster.env["CONVEYOR_DATABASE_URL"], pool_size=1)
        api = Api(cluster.gateway.url, token)
        try:
            yield Killable(cluster, api, db)
        finally:
            await api.http.aclose()
            await db.dispose()


async def _restart(cluster: Cluster, handle: ServiceHandle, attempts: int = 3) -> None:
    """Start the killed scheduler again until it is ready: on a machine whose PostgreSQL is
    shared, a start can find every connection taken and exit; that is not what is tested."""
    for attempt in range(attempts):
        restarted = await cluster.restart(handle)
        try:
            await cluster.wait_ready(restarted, within_s=60)
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            await cluster.kill(restarted, signal.SIGKILL)


async def _dispatched(db: AsyncEngine, task_id: str) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(text(
            "SELECT count(*) FROM task_items WHERE task_id = :id AND status = 'dispatched'"),
            {"id": task_id}) or 0)


async def _left_in_outbox(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM outbox")) or 0)


async def _settled_once(db: AsyncEngine, task_id: str) -> tuple[int, int, int]:
    async with db.connect() as conn:
        row = (await conn.execute(text(
            """SELECT t.done, t.inflight, (SELECT count(*) FROM task_items i
                WHERE i.task_id = t.id AND i.status = 'done') AS items_done
            FROM tasks t WHERE t.id = :id"""), {"id": task_id})).one()
    return row.done, row.inflight, row.items_done


async def test_kill_9_of_the_scheduler_mid_dispatch_leaves_no_item_without_its_message(
        killable: Killable) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    cluster, api, db = killable.cluster, killable.api, killable.db
    worst, left_behind = 0.0, 0
    for round_ in range(LOOPS):
        task = await api.create_echo([{"value": i, "sleep_ms": 5} for i in range(ITEMS)],
                                     concurrency=WINDOW)
        task_id = task["taskId"]
        await api.wait_until(task_id, lambda t: t["completedItems"] >= 1, timeout_s=60)
        await asyncio.sleep(rng.uniform(0, 0.3))  # somewhere in the stream of dispatches
        scheduler = next(h for h in cluster.handles if h.name == "scheduler" and h.running())
        assert await cluster.kill(scheduler, signal.SIGKILL) == -signal.SIGKILL
        killed_at = time.monotonic()
        left_behind += await _left_in_outbox(db)
        # Nothing dispatches any more: what was dispatched must reach the worker, which
        # claims it (dispatched -> processing) as soon as its message arrives.
        while (stranded := await _dispatched(db, task_id)) > 0:
            waited = time.monotonic() - killed_at
            assert waited <= STRANDED_AT_MOST_S, (
                f"round {round_} (seed {seed}): {stranded} items dispatched without their "
                f"message {waited:.2f}s after the kill")
            await asyncio.sleep(0.02)
        waited = time.monotonic() - killed_at
        worst = max(worst, waited)
        print(f"kill {round_ + 1}/{LOOPS}: last dispatched item claimed {waited:.2f}s after it")
        await _restart(cluster, scheduler)
        final = await api.wait_finished(task_id, timeout_s=120)
        assert final["status"] == "completed", final
        assert await _settled_once(db, task_id) == (ITEMS, 0, ITEMS)
    print(f"{LOOPS} kills (seed {seed}): outbox rows a killed scheduler left {left_behind}, "
          f"longest wait for the last dispatched item {worst:.2f}s")
