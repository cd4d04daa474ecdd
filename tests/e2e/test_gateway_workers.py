"""A gateway of several processes (CONVEYOR_GATEWAY_WORKERS=2) on the session's stack: each
worker is an instance of its own, every WebSocket client gets every event of its task whichever
worker accepted it, /metrics on any worker counts the requests of all of them, and SIGTERM to
the supervisor leaves no worker behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
import websockets

from tests.e2e.conftest import Api, Stack, Stream
from tests.e2e.metrics_support import scrape, value
from tests.harness import ServiceHandle
from tests.harness.processes import group_members

WORKERS = 2
SOCKETS = 6  # accepted by whichever worker wins each connection: most likely both


@pytest_asyncio.fixture(loop_scope="session")
async def workers(stack: Stack) -> AsyncIterator[ServiceHandle]:
    handle = await stack.cluster.start("gateway", CONVEYOR_GATEWAY_WORKERS=str(WORKERS),
                                       CONVEYOR_INSTANCE_NAME="gw-multi",
                                       CONVEYOR_DB_POOL_SIZE="4")
    try:
        yield handle
    finally:
        await stack.cluster.kill(handle)
        # Later tests use the session's gateway (the gateway started last).
        stack.cluster.handles.remove(handle)


def _ready_instances(handle: ServiceHandle) -> set[str]:
    lines = [json.loads(line) for line in handle.log.read_text().splitlines()
             if line.startswith("{") and '"service.ready"' in line]
    return {line["instance"] for line in lines}


async def test_workers_are_instances_share_events_and_metrics(
        stack: Stack, alice: Api, workers: ServiceHandle) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while len(instances := _ready_instances(workers)) < WORKERS:
        assert asyncio.get_running_loop().time() < deadline, instances
        await asyncio.sleep(0.2)
    assert len(instances) == WORKERS and all(i.startswith("gw-multi-") for i in instances)

    api = Api(workers.url, alice.token)
    task = await api.create_echo([{"value": i} for i in range(20)], autoStart=False)
    streams = [Stream(await websockets.connect(api.ws_url())) for _ in range(SOCKETS)]
    for stream in streams:
        await stream.send({"action": "subscribe", "channels": ["task_progress"],
                           "filters": {"taskId": task["taskId"]}})
        await stream.wait_for("subscribed")
    assert (await alice.command(task["taskId"], "start")).status_code == 200  # gateway A
    for stream in streams:
        assert (await stream.wait_for("task_completed"))["payload"]["status"] == "completed"
        await stream.close()

    reads = 12
    # A connection per request, so the reads spread over the workers.
    async with httpx.AsyncClient(base_url=workers.url, headers=api.http.headers, timeout=10,
                                 limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for _ in range(reads):
            assert (await client.get(f"/api/v1/tasks/{task['taskId']}")).status_code == 200
    route = "/api/v1/tasks/{task_id}"
    for _ in range(4):  # whichever worker answers the scrape: the sum over both
        samples = await scrape(workers)
        assert value(samples, "conveyor_http_requests_total", method="GET", route=route,
                     status="200") == reads
        assert value(samples, "conveyor_ready") == 1


async def test_sigterm_to_the_supervisor_stops_every_worker(
        stack: Stack, workers: ServiceHandle) -> None:
    marker = f"CONVEYOR_DATABASE_URL={stack.env['CONVEYOR_DATABASE_URL']}"
    assert len(group_members(workers.pid, marker)) > WORKERS  # the supervisor and its workers
    assert await stack.cluster.kill(workers) == 0
    deadline = asyncio.get_running_loop().time() + 10
    while group_members(workers.pid, marker):
        assert asyncio.get_running_loop().time() < deadline, "a worker outlived its supervisor"
        await asyncio.sleep(0.2)
