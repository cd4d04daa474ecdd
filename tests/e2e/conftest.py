"""A running cluster for end-to-end tests: registry, scheduler, echo worker and gateway, started
once per run against the run's own database, vhost and S3 bucket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio
import websockets
from sqlalchemy import text

from libs.db.engine import create_engine
from tests.harness import Cluster
from tests.harness.cluster import ServiceHandle, create_user

# Fast clocks so liveness, sweeps and retries show within a test's patience.
FAST = {
    "CONVEYOR_HEARTBEAT_INTERVAL_S": "0.5",
    "CONVEYOR_SCHEDULER_SWEEP_INTERVAL_S": "0.2",
    "CONVEYOR_SCHEDULER_BACKOFF_BASE_S": "0.1",
    "CONVEYOR_SCHEDULER_GAUGES_INTERVAL_S": "0.3",
    "CONVEYOR_REGISTRY_SWEEP_INTERVAL_S": "0.2",
    "CONVEYOR_REGISTRY_HEALTH_INTERVAL_S": "0.5",
    "CONVEYOR_REGISTRY_REMOTE_POLL_INTERVAL_S": "0.2",
    "CONVEYOR_GATEWAY_MAX_BODY_BYTES": str(2 * 1024 * 1024),
    # Remote servers in tests listen on 127.0.0.2; 127.0.0.1 stays refused (tests/e2e/
    # test_servers.py checks both).
    "CONVEYOR_SERVER_URL_ALLOWLIST": "127.0.0.2/32",
}


class Api:
    """An authenticated client of the gateway."""

    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.token = token
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)

    async def create_echo(self, items: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        response = await self.http.post("/api/v1/tasks", json={"kind": "echo", "items": items,
                                                               **options})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def task(self, task_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/tasks/{task_id}")
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def command(self, task_id: str, action: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/tasks/{task_id}/{action}")

    async def wait_until(self, task_id: str, check: Callable[[dict[str, Any]], bool],
                         timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            task = await self.task(task_id)
            if check(task):
                return task
            assert time.monotonic() < deadline, f"timed out waiting; last state {task}"
            await asyncio.sleep(0.05)

    async def wait_finished(self, task_id: str, timeout_s: float = 60) -> dict[str, Any]:
        return await self.wait_until(
            task_id, lambda t: t["status"] in ("completed", "partial_success", "failed",
                                               "cancelled"), timeout_s)

    def ws_url(self, path: str = "/v2/stream") -> str:
        return self.base_url.replace("http", "ws", 1) + f"{path}?token={self.token}"


class Stream:
    """A WebSocket subscription that records every message it receives."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.messages: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            self.messages.append(json.loads(raw))

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def wait_for(self, type_: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            for message in self.messages:
                if message["type"] == type_:
                    return message
            assert time.monotonic() < deadline, f"no {type_}: got {self.types()}"
            await asyncio.sleep(0.02)

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()


class Stack:
    def __init__(self, cluster: Cluster, env: dict[str, str]) -> None:
        self.cluster = cluster
        self.env = env
        self.workers: list[ServiceHandle] = []

    @property
    def url(self) -> str:
        return self.cluster.gateway.url

    async def user(self, tenant: str, user: str, admin: bool = False) -> Api:
        return Api(self.url, await create_user(self.env, tenant, user, admin))

    async def items_started_while_paused(self, task_id: str) -> int:
        """How many of a paused task's items started after the pause took effect (read from
        the database: the API shows no pause time)."""
        db = create_engine(self.env["CONVEYOR_DATABASE_URL"], pool_size=1)
        try:
            async with db.connect() as conn:
                late = await conn.scalar(text(
                    """SELECT count(*) FROM task_items i JOIN tasks t ON t.id = i.task_id
                    WHERE t.id = :id AND i.started_at > t.paused_at"""), {"id": task_id})
        finally:
            await db.dispose()
        return int(late or 0)

    async def open_stream(self, api: Api, path: str = "/v2/stream") -> Stream:
        return Stream(await websockets.connect(api.ws_url(path)))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(cluster: Cluster, env: dict[str, str]) -> AsyncIterator[Stack]:
    cluster.env.update(FAST)
    stack = Stack(cluster, {**env, **FAST})
    await cluster.start("registry")
    await cluster.start("scheduler")
    stack.workers.append(await cluster.start("echo", CONVEYOR_INSTANCE_NAME="echo-1"))
    await cluster.start("gateway")
    for handle in cluster.handles:
        if handle.name != "gateway":
            await cluster.wait_for_log(handle, "ready")
    yield stack


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def alice(stack: Stack) -> Api:
    return await stack.user("acme", "alice")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mallory(stack: Stack) -> Api:
    return await stack.user("evil-corp", "mallory")


Waiter = Callable[[], Awaitable[None]]
