"""What an operator sees: every process's metrics move during a batch, the gateway's access log
names routes (never tokens), and readiness follows the broker."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from tests.e2e.conftest import Api, Stack
from tests.e2e.metrics_support import Samples, label_values, scrape, value
from tests.harness import ServiceHandle, rabbitmq_stopped


def _items(count: int, sleep_ms: int) -> list[dict[str, object]]:
    return [{"value": i, "sleep_ms": sleep_ms} for i in range(count)]


def _live(stack: Stack, name: str) -> list[ServiceHandle]:
    return [h for h in stack.cluster.handles if h.name == name and h.running()]


async def _scrape_all(handles: list[ServiceHandle]) -> dict[int, Samples]:
    return {h.pid: await scrape(h) for h in handles}


def _total(scrapes: dict[int, Samples], handles: list[ServiceHandle], name: str,
           **labels: str) -> float:
    return sum(value(scrapes[h.pid], name, **labels) for h in handles)


async def test_every_process_exports_metrics_that_move_during_a_batch(
    stack: Stack, alice: Api
) -> None:
    processes = [h for h in stack.cluster.handles if h.running()]
    assert {"gateway", "scheduler", "registry", "echo"} <= {h.name for h in processes}
    scheduler, gateway, echoes = _live(stack, "scheduler")[0], _live(stack, "gateway")[-1], \
        _live(stack, "echo")
    before = await _scrape_all(processes)
    for handle in processes:
        samples = before[handle.pid]
        assert value(samples, "conveyor_ready") == 1, handle.name
        assert value(samples, "process_cpu_seconds_total") > 0, handle.name

    task = await alice.create_echo(_items(2000, sleep_ms=40), concurrency=100)
    # While the task runs the scheduler's sampled gauges show it and its window.
    deadline = time.monotonic() + 30
    while True:
        during = await scrape(scheduler)
        if (value(during, "conveyor_tasks", kind="echo", status="running") >= 1
                and value(during, "conveyor_window_inflight_items", kind="echo") > 0):
            break
        assert time.monotonic() < deadline, "gauges never showed the running task"
        await asyncio.sleep(0.1)
    assert value(during, "conveyor_window_size_items", kind="echo") >= 100
    assert "echo.items" in label_values(during, "conveyor_rabbitmq_queue_messages", "queue")
    assert value(during, "conveyor_items_settled_total", kind="echo", outcome="done") < \
        value(before[scheduler.pid], "conveyor_items_settled_total", kind="echo",
              outcome="done") + 2000

    final = await alice.wait_finished(task["taskId"], timeout_s=120)
    assert final["status"] == "completed"
    after = await _scrape_all(processes)

    def moved(handles: list[ServiceHandle], name: str, **labels: str) -> float:
        return _total(after, handles, name, **labels) - _total(before, handles, name, **labels)

    engine = [scheduler]
    assert moved(engine, "conveyor_items_settled_total", kind="echo", outcome="done") >= 2000
    assert moved(engine, "conveyor_items_dispatched_total", kind="echo") >= 2000
    assert moved(engine, "conveyor_dispatch_batch_items_count", kind="echo") >= 1
    assert moved(engine, "conveyor_dispatch_batch_items_sum", kind="echo") >= 2000
    assert moved(engine, "conveyor_settle_batch_results_count") >= 1
    assert moved(engine, "conveyor_tasks_finished_total", kind="echo", status="completed") >= 1
    assert moved(echoes, "conveyor_item_duration_seconds_count", kind="echo",
                 outcome="done") >= 2000
    # 40 ms items: the duration histogram's sum says so.
    assert moved(echoes, "conveyor_item_duration_seconds_sum", kind="echo") >= 2000 * 0.035
    assert moved(echoes, "conveyor_item_queue_seconds_count", kind="echo") >= 1
    assert moved([gateway], "conveyor_http_requests_total", method="POST",
                 route="/api/v1/tasks", status="200") == 1
    status_routes = label_values(after[gateway.pid], "conveyor_http_requests_total", "route")
    assert any(route.startswith("/api/v1/tasks/{") for route in status_routes), status_routes
    for samples in after.values():  # bounded labels: no task id anywhere
        assert not any(task["taskId"] in "".join(f"{k}{v}" for k, v in labels)
                       for _, labels in samples)


async def test_access_log_names_the_route_and_never_the_token(stack: Stack, alice: Api) -> None:
    assert alice.token
    response = await alice.http.get(f"/api/v1/tasks?pageSize=5&token={alice.token}")
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    missing = await alice.http.get("/no/such/route")
    assert missing.status_code == 404
    gateway = stack.cluster.gateway
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in gateway.log.read_text().splitlines()
                 if line.startswith("{") and '"http.request"' in line]
        mine = [line for line in lines if line.get("request_id") == request_id]
        unmatched = [line for line in lines if line.get("route") == "<unmatched>"]
        if mine and unmatched:
            break
        assert time.monotonic() < deadline, "no access log line"
        await asyncio.sleep(0.1)
    line = mine[0]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/tasks", 200)
    assert line["duration_ms"] >= 0 and line["service"] == "gateway"
    assert unmatched[-1]["status"] == 404
    assert alice.token not in gateway.log.read_text(), "a token reached the log"


async def _ready(client: httpx.AsyncClient, handle: ServiceHandle) -> int:
    try:
        return (await client.get(f"{handle.probe_url}/readyz")).status_code
    except httpx.TransportError:
        return 0


async def _wait_all(handles: list[ServiceHandle], status: int, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(timeout=3, trust_env=False) as client:
        while True:
            codes = {h.name: await _ready(client, h) for h in handles}
            if all(code == status for code in codes.values()):
                return
            assert time.monotonic() < deadline, f"wanted {status} everywhere: {codes}"
            await asyncio.sleep(0.1)


async def test_readiness_is_503_while_rabbitmq_is_stopped_and_200_after(stack: Stack) -> None:
    processes = [h for h in stack.cluster.handles if h.running()]
    await _wait_all(processes, 200, within_s=10)
    gateway = stack.cluster.gateway
    async with rabbitmq_stopped():
        await _wait_all(processes, 503, within_s=10)
        async with httpx.AsyncClient(base_url=gateway.url, trust_env=False) as client:
            health = await client.get("/api/v2/health")
            readyz = (await client.get("/readyz")).json()
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"
    assert health.json()["services"]["rabbitmq"] == "unreachable"
    assert readyz["checks"]["postgres"] == "ok" and readyz["checks"]["rabbitmq"] != "ok"
    # aio-pika reconnects every 5 s: ready again within a couple of attempts.
    await _wait_all(processes, 200, within_s=30)
    async with httpx.AsyncClient(base_url=gateway.url, trust_env=False) as client:
        health = await client.get("/api/v2/health")
    assert health.status_code == 200 and health.json()["services"]["rabbitmq"] == "running"
