"""Fair share between tenants, on a cluster of its own with two schedulers and one echo worker
of 20 slots (so the kind's credit is 25 items in flight): a flood of one tenant does not hold a
small task of another behind its queue, weights split the workers, a tenant's limits hold and
say why its task waits, creates past a limit answer 429 with Retry-After; and the same once one
of the schedulers is killed."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import FAST, Api
from tests.harness import Cluster, S3Endpoint, create_user, infra

SLOTS = 20
CREDIT = SLOTS + 5  # the echo worker's slots and the default buffer (a quarter)
ITEM_MS = 200


@dataclass
class Fair:
    cluster: Cluster
    env: dict[str, str]

    async def api(self, tenant: str, user: str = "u", admin: bool = False) -> Api:
        return Api(self.cluster.gateway.url, await create_user(self.env, tenant, user, admin))

    async def set_limits(self, tenant: str, **limits: int) -> str:
        argv = [sys.executable, "-m", "services.gateway.cli", "set-limits", "--tenant", tenant]
        for name, value in limits.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        return await infra.run(*argv, env={**infra.clean_environ(), **self.env})


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fair(run_id: str, s3: S3Endpoint,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fair]:
    database, vhost = f"conveyor_test_{run_id}_fair", f"conveyor-test-{run_id}-fair"
    url = await infra.create_database(database)
    await infra.migrate(url)
    env = {"CONVEYOR_ENV": "prod", "CONVEYOR_DATABASE_URL": url,
           "CONVEYOR_AMQP_URL": await infra.create_vhost(vhost),
           "CONVEYOR_S3_ENDPOINT": s3.endpoint, "CONVEYOR_S3_ACCESS_KEY": s3.access_key,
           "CONVEYOR_S3_SECRET_KEY": s3.secret_key, "CONVEYOR_S3_SECURE": "0",
           "CONVEYOR_S3_BUCKET": s3.bucket, **FAST, "CONVEYOR_DB_POOL_SIZE": "3",
           "CONVEYOR_ECHO_CONCURRENCY": str(SLOTS), "CONVEYOR_ECHO_PREFETCH": "4"}
    cluster = Cluster(env, tmp_path_factory.mktemp("fair"))
    try:
        await cluster.start("registry")
        for name in ("scheduler", "scheduler", "echo", "gateway"):
            await cluster.start(name)
        for handle in cluster.handles:
            await cluster.wait_ready(handle)
        await asyncio.sleep(1.5)  # the registry has the echo worker's beat: the credit is known
        yield Fair(cluster, env)
    finally:
        await cluster.stop_all()
        await infra.delete_vhost(vhost)
        await infra.drop_database(database)


def _items(count: int, sleep_ms: int = ITEM_MS) -> list[dict[str, Any]]:
    return [{"value": i, "sleep_ms": sleep_ms} for i in range(count)]


async def _timed(api: Api, count: int) -> float:
    started = time.monotonic()
    task = await api.create_echo(_items(count))
    done = await api.wait_finished(task["taskId"])
    assert done["status"] == "completed", done
    return time.monotonic() - started


async def _flood(api: Api, tasks: int, items: int, concurrency: int = 50) -> list[str]:
    ids = [(await api.create_echo(_items(items), concurrency=concurrency))["taskId"]
           for _ in range(tasks)]
    await api.wait_until(ids[-1], lambda t: t["inflightItems"] > 0)
    return ids


async def _tasks(api: Api, ids: list[str]) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(api.task(t) for t in ids)))


async def _inflight(api: Api, ids: list[str]) -> int:
    return sum(t["inflightItems"] for t in await _tasks(api, ids))


async def _cancel(api: Api, ids: list[str]) -> None:
    for task_id in ids:
        await api.command(task_id, "cancel")
        await api.wait_finished(task_id)


async def _small_beside_flood(fair: Fair, flood: Api, small: Api) -> None:
    alone = await _timed(small, 5)
    ids = await _flood(flood, 4, 400)
    try:
        inflight = await _inflight(flood, ids)
        assert inflight <= CREDIT, f"{inflight} items in flight over a credit of {CREDIT}"
        contended = await _timed(small, 5)
        remaining = await _tasks(flood, ids)
        # It did not wait for the flood's backlog: most of the flood is still to do.
        assert sum(t["completedItems"] for t in remaining) < 4 * 400 // 2
        assert contended <= 1.5 * alone + 2, (alone, contended)
    finally:
        await _cancel(flood, ids)


async def test_a_small_task_does_not_wait_for_another_tenants_flood(fair: Fair) -> None:
    await _small_beside_flood(fair, await fair.api("flood-a"), await fair.api("small-a"))


async def test_weights_split_the_kinds_workers(fair: Fair) -> None:
    heavy, light = await fair.api("heavy-w"), await fair.api("light-w")
    assert "weight=3" in await fair.set_limits("heavy-w", weight=3)
    ids = {"heavy": await _flood(heavy, 2, 300), "light": await _flood(light, 2, 300)}
    try:
        samples: list[tuple[int, int]] = []
        for _ in range(15):
            await asyncio.sleep(0.2)
            h = await _inflight(heavy, ids["heavy"])
            lo = await _inflight(light, ids["light"])
            samples.append((h, lo))
        h_total, l_total = sum(s[0] for s in samples), sum(s[1] for s in samples)
        assert h_total + l_total <= CREDIT * len(samples)
        assert 2.2 <= h_total / max(1, l_total) <= 4.0, samples
    finally:
        await _cancel(heavy, ids["heavy"])
        await _cancel(light, ids["light"])


async def test_a_tenant_limit_caps_its_running_items_and_says_why_it_waits(fair: Fair) -> None:
    capped = await fair.api("capped")
    await fair.set_limits("capped", max_running_items=2)
    first = (await capped.create_echo(_items(12, 300), concurrency=10))["taskId"]
    await capped.wait_until(first, lambda t: t["inflightItems"] == 2)
    second = (await capped.create_echo(_items(3), concurrency=10))["taskId"]
    waiting = await capped.wait_until(second, lambda t: t["queue"] is not None)
    assert waiting["status"] == "running" and waiting["inflightItems"] == 0
    assert waiting["queue"]["state"] == "queued"
    assert waiting["queue"]["reason"] == "tenant_limit" and waiting["queue"]["position"] >= 1
    peak = 0
    while (task := await capped.task(first))["status"] == "running":
        peak = max(peak, task["inflightItems"])
        await asyncio.sleep(0.05)
    assert peak <= 2
    done = await capped.wait_finished(second)
    assert done["status"] == "completed" and done["queue"] is None


async def test_creates_past_a_limit_answer_429_with_retry_after(fair: Fair) -> None:
    hourly = await fair.api("hourly")
    await fair.set_limits("hourly", tasks_per_hour=2)
    for _ in range(2):
        await hourly.create_echo(_items(1, 0))
    refused = await hourly.http.post("/api/v1/tasks", json={"kind": "echo",
                                                            "items": [{"value": 1}]})
    assert refused.status_code == 429, refused.text
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3601
    body = refused.json()
    assert body["code"] == 429 and body["error"]["code"] == "TOO_MANY_REQUESTS"
    assert body["error"]["details"]["limit"] == "tasks_per_hour"

    busy = await fair.api("busy")
    await fair.set_limits("busy", max_running_tasks=1)
    held = await busy.http.post("/api/v1/tasks", json={"kind": "echo", "autoStart": False,
                                                       "items": [{"value": 1}]})
    assert held.status_code == 200
    refused = await busy.http.post("/api/v1/tasks", json={"kind": "echo",
                                                          "items": [{"value": 1}]})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    await busy.command(held.json()["data"]["taskId"], "cancel")
    again = await busy.http.post("/api/v1/tasks", json={"kind": "echo", "items": [{"value": 1}]})
    assert again.status_code == 200


async def test_the_operator_sees_every_tenants_share_a_tenant_only_its_own(fair: Fair) -> None:
    flood, other = await fair.api("share-a"), await fair.api("share-b")
    operator = await fair.api("operator", "root", admin=True)
    ids = await _flood(flood, 1, 200)
    other_ids = await _flood(other, 1, 200)
    try:
        seen = (await operator.http.get("/api/v2/health/shares")).json()["shares"]
        tenants = {row["tenant"] for row in seen}
        assert {"share-a", "share-b"} <= tenants
        assert all(0 <= row["share"] <= 1 for row in seen)
        own = (await other.http.get("/api/v2/health/shares")).json()["shares"]
        assert {row["tenant"] for row in own} == {"share-b"}
        path = "/api/v2/health/tenants/share-b/limits"
        set_ = await operator.http.put(path, json={"weight": 2, "tasksPerHour": 500})
        assert set_.status_code == 200, set_.text
        assert set_.json()["weight"] == 2 and set_.json()["tasksPerHour"] == 500
        reset = await operator.http.put(path, json={"tasksPerHour": 0})
        assert reset.json() == {**set_.json(), "tasksPerHour": None}
        assert (await other.http.put(path, json={"weight": 9})).status_code == 403
        assert (await operator.http.get("/api/v2/health/tenants/nobody/limits")).status_code \
            == 404
    finally:
        await _cancel(flood, ids)
        await _cancel(other, other_ids)


async def test_shares_hold_after_a_scheduler_is_killed(fair: Fair) -> None:
    victim = next(h for h in fair.cluster.handles if h.name == "scheduler" and h.running())
    assert await fair.cluster.kill(victim, signal.SIGKILL) == -signal.SIGKILL
    await _small_beside_flood(fair, await fair.api("flood-k"), await fair.api("small-k"))
