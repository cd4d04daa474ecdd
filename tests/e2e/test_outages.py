"""Outages answer as promised: while PostgreSQL restarts under a read and create load, every
answer is a success or a 503 with `Retry-After` and the request id (never a 500), and a keyed
create that met the outage succeeds when retried after its `Retry-After`."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import httpx

from tests.e2e.conftest import Api, Stack
from tests.harness import postgres_restart

READ_WORKERS = 4
CREATE_WORKERS = 2
WARM_UP = 50
AFTER_RESTART_S = 3.0  # load goes on this long once PostgreSQL listens again


class Load:
    """Readers and keyed creators, recording every answer until stopped."""

    def __init__(self, api: Api, task_id: str) -> None:
        self.api = api
        self.task_id = task_id
        self.statuses: Counter[int] = Counter()
        self.bad: list[str] = []  # answers that break the promise, described
        self.keys_that_met_outage: list[tuple[str, dict[str, object]]] = []
        self.running = True
        self.under_way = asyncio.Event()  # set once WARM_UP answers have come back

    def _check(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if self.statuses.total() >= WARM_UP:
            self.under_way.set()
        if not response.headers.get("x-request-id"):
            self.bad.append(f"{response.request.url.path}: {response.status_code} without "
                            "X-Request-ID")
        if response.status_code >= 500 and (response.status_code != 503
                                            or "retry-after" not in response.headers):
            self.bad.append(f"{response.request.method} {response.request.url.path}: "
                            f"{response.status_code} {response.text[:200]}")

    async def read(self) -> None:
        paths = [f"/api/v1/tasks/{self.task_id}", "/api/v1/tasks",
                 f"/api/v1/tasks/{self.task_id}/items", f"/api/v1/generate/status/{self.task_id}"]
        while self.running:
            for path in paths:
                try:
                    self._check(await self.api.http.get(path))
                except httpx.TransportError as exc:
                    self.bad.append(f"GET {path}: {type(exc).__name__}")
            await asyncio.sleep(0.01)

    async def create(self) -> None:
        while self.running:
            key = secrets.token_hex(8)
            body: dict[str, object] = {"kind": "echo", "items": [{"value": 1}]}
            response = await self.api.http.post("/api/v1/tasks", json=body,
                                                headers={"Idempotency-Key": key})
            self._check(response)
            if response.status_code == 503:
                self.keys_that_met_outage.append((key, body))
            await asyncio.sleep(0.02)


async def _retry_until_created(api: Api, key: str, body: dict[str, object]) -> int:
    """Send the keyed create again after each Retry-After, as a client would; the status of
    the first answer that is not a 503."""
    deadline = time.monotonic() + 30
    while True:
        response = await api.http.post("/api/v1/tasks", json=body,
                                       headers={"Idempotency-Key": key})
        if response.status_code != 503:
            return response.status_code
        assert time.monotonic() < deadline, "still 503 30 s after the restart"
        await asyncio.sleep(float(response.headers["retry-after"]))


async def test_postgres_restart_under_load_answers_503_never_500(stack: Stack) -> None:
    api = await stack.user(f"outage-{secrets.token_hex(3)}", "olga")
    task = await api.create_echo([{"value": i} for i in range(5)])
    load = Load(api, task["taskId"])
    workers = [asyncio.create_task(load.read()) for _ in range(READ_WORKERS)]
    workers += [asyncio.create_task(load.create()) for _ in range(CREATE_WORKERS)]
    try:
        await asyncio.wait_for(load.under_way.wait(), timeout=30)
        await postgres_restart()
        await asyncio.sleep(AFTER_RESTART_S)
    finally:
        load.running = False
        await asyncio.gather(*workers)
    assert not load.bad, load.bad[:10]
    assert load.statuses[503] > 0, f"the restart was not seen: {dict(load.statuses)}"
    for key, body in load.keys_that_met_outage:
        assert await _retry_until_created(api, key, body) == 200, key

