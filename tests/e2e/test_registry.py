"""Workers register themselves and heartbeat; the registry marks a silent one offline and the
gateway's health reflects the registry's view."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
from sqlalchemy import text

from libs.db.engine import create_engine
from tests.e2e.conftest import Stack


async def _instance_status(stack: Stack, name: str) -> str | None:
    db = create_engine(stack.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    async with db.connect() as conn:
        status = await conn.scalar(
            text("SELECT status FROM instances WHERE name = :name"), {"name": name})
    await db.dispose()
    return status


async def _wait_status(stack: Stack, name: str, wanted: str, within_s: float) -> float:
    started = time.monotonic()
    while (status := await _instance_status(stack, name)) != wanted:
        assert time.monotonic() - started < within_s, f"{name} still {status}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_silent_worker_is_marked_offline(stack: Stack) -> None:
    worker = await stack.cluster.start("echo", CONVEYOR_INSTANCE_NAME="echo-doomed")
    await _wait_status(stack, "echo-doomed", "online", within_s=10)
    await stack.cluster.kill(worker, signal.SIGKILL)
    # 3 missed beats of 0.5 s plus one 0.2 s sweep
    took = await _wait_status(stack, "echo-doomed", "offline", within_s=5)
    assert took < 3.0


async def test_clean_stop_goes_offline_at_once(stack: Stack) -> None:
    worker = await stack.cluster.start("echo", CONVEYOR_INSTANCE_NAME="echo-polite")
    await _wait_status(stack, "echo-polite", "online", within_s=10)
    assert await stack.cluster.kill(worker, signal.SIGTERM) == 0
    took = await _wait_status(stack, "echo-polite", "offline", within_s=2)
    assert took < 1.0


async def test_health_in_seed_000_shape_from_heartbeats(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as client:
        body = (await client.get("/api/v2/health")).json()
    # Honest health: "degraded" while any service that has run (e.g. one an earlier test on
    # this shared stack stopped) has no instance online, "healthy" only when all are running.
    everything_runs = all(state == "running" for state in body["services"].values())
    assert body["status"] == ("healthy" if everything_runs else "degraded"), body
    assert body["timestamp"].endswith("Z")
    for service in ("scheduler", "registry", "echo", "gateway", "templateManager",
                    "websocketServer"):
        assert body["services"][service] == "running", body
