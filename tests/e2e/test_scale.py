"""Several instances of everything: two schedulers, two gateways, two echo and two docrender
workers on one database and vhost (this module's own). Every item is settled exactly once
(PostgreSQL), a WebSocket client on gateway B sees every event of a task created through
gateway A, and killing one scheduler mid-task leaves the other to finish it."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
import websockets
from sqlalchemy import text

from libs.db.engine import create_engine
from tests.e2e.conftest import FAST, Api, Stream
from tests.e2e.docs_fixtures import template
from tests.e2e.metrics_support import scrape, value
from tests.harness import Cluster, S3Endpoint, ServiceHandle, create_user
from tests.harness.own import own_cluster, wait_online


@dataclass
class Scaled:
    cluster: Cluster
    env: dict[str, str]
    a: Api
    b: Api

    def live(self, name: str) -> list[ServiceHandle]:
        return [h for h in self.cluster.handles if h.name == name and h.running()]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def scaled(run_id: str, s3: S3Endpoint,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scaled]:
    async with own_cluster("scale", run_id, s3, tmp_path_factory.mktemp("scaled"), {
            **FAST,
            # docx only, one render process each: two instances on a shared 2-core machine.
            "CONVEYOR_DOCRENDER_OFFICE_INSTANCES": "0",
            "CONVEYOR_DOCRENDER_RENDER_PROCESSES": "1"}) as cluster:
        await cluster.start("registry")
        for name in ("scheduler", "scheduler", "echo", "echo"):
            await cluster.start(name)
        await cluster.start("docrender", CONVEYOR_INSTANCE_NAME="docrender-a")
        await cluster.start("docrender", CONVEYOR_INSTANCE_NAME="docrender-b")
        gateway_a = await cluster.start("gateway")
        gateway_b = await cluster.start("gateway")
        for handle in cluster.handles:
            await cluster.wait_ready(handle)
        await wait_online(cluster, len(cluster.handles))
        token = await create_user(cluster.env, "scale", "sam")
        yield Scaled(cluster, cluster.env, Api(gateway_a.url, token), Api(gateway_b.url, token))


async def _each_item_settled_once(env: dict[str, str], task_id: str, total: int) -> None:
    """The task's counters (applied once per settled result, in the same transaction) equal
    the item rows: a result applied twice, by either scheduler, would count twice."""
    db = create_engine(env["CONVEYOR_DATABASE_URL"], pool_size=1)
    async with db.connect() as conn:
        row = (await conn.execute(text(
            """SELECT t.status, t.done, t.failed, t.inflight,
                (SELECT count(*) FROM task_items i WHERE i.task_id = t.id
                 AND i.status = 'done') AS items_done,
                (SELECT count(*) FROM task_items i WHERE i.task_id = t.id) AS items
            FROM tasks t WHERE t.id = :id"""), {"id": task_id})).one()
    await db.dispose()
    assert (row.status, row.done, row.items_done, row.items, row.failed, row.inflight) == (
        "completed", total, total, total, 0, 0)


async def test_websocket_on_gateway_b_sees_every_event_of_a_task_from_gateway_a(
    scaled: Scaled
) -> None:
    total = 5000
    task = await scaled.a.create_echo([{"value": i} for i in range(total)], concurrency=500,
                                      autoStart=False)
    task_id = task["taskId"]
    stream = Stream(await websockets.connect(scaled.b.ws_url()))
    await stream.send({"action": "subscribe", "channels": ["task_progress", "items"],
                       "filters": {"taskId": task_id}})
    await stream.wait_for("subscribed")
    assert (await scaled.a.command(task_id, "start")).status_code == 200
    completed = await stream.wait_for("task_completed", timeout_s=180)
    assert completed["payload"]["status"] == "completed"
    await asyncio.sleep(0.5)  # items_settled of the last batch precedes task_completed anyway
    settled = Counter(item["seq"] for m in stream.messages if m["type"] == "items_settled"
                      for item in m["payload"]["items"])
    assert sorted(settled) == list(range(total)) and set(settled.values()) == {1}
    assert "task_started" in stream.types()
    await stream.close()
    await _each_item_settled_once(scaled.env, task_id, total)
    # Both schedulers applied results and both echo workers ran items.
    for name, series in (("scheduler", "conveyor_items_settled_total"),
                         ("echo", "conveyor_item_duration_seconds_count")):
        for handle in scaled.live(name):
            assert value(await scrape(handle), series, kind="echo") > 0, handle.name


async def test_docx_batch_of_200_rows_on_two_docrenders(scaled: Scaled) -> None:
    upload = await scaled.a.http.post("/api/v2/templates", data={"id": "scale-t"},
                                      files={"file": ("t.docx", template("行 {{ n }}"))})
    assert upload.status_code == 201, upload.text
    body = {"templateIds": ["scale-t"], "outputFormat": "docx", "mode": "parallel",
            "data": [{"n": i} for i in range(200)],
            "options": {"batchSize": 2, "concurrency": 8, "createZip": True}}
    created = await scaled.a.http.post("/api/v2/batch/tasks", json=body)
    assert created.status_code in (200, 201), created.text
    task_id = created.json()["data"]["taskId"]
    assert (await scaled.b.http.post(f"/api/v2/batch/tasks/{task_id}/start")).status_code == 200
    final = await scaled.b.wait_finished(task_id, timeout_s=240)
    assert final["status"] == "completed", final
    await _each_item_settled_once(scaled.env, task_id, 200)
    for handle in scaled.live("docrender"):  # the work was shared
        samples = await scrape(handle)
        assert value(samples, "conveyor_item_duration_seconds_count", kind="documents",
                     outcome="done") > 0, handle.name


async def test_killing_one_scheduler_mid_task_leaves_the_other_to_finish(
    scaled: Scaled
) -> None:
    total = 3000
    task = await scaled.a.create_echo([{"value": i, "sleep_ms": 5} for i in range(total)],
                                      concurrency=200)
    task_id = task["taskId"]
    await scaled.a.wait_until(task_id, lambda t: t["completedItems"] >= total // 2,
                              timeout_s=120)
    victim = scaled.live("scheduler")[0]
    assert await scaled.cluster.kill(victim, signal.SIGKILL) == -signal.SIGKILL
    killed_at = time.monotonic()
    final = await scaled.b.wait_finished(task_id, timeout_s=60)
    took = time.monotonic() - killed_at
    assert final["status"] == "completed"
    print(f"scheduler killed at {total // 2}+ of {total} items; finished {took:.1f}s later")
    assert took < 10.0, f"the surviving scheduler needed {took:.1f}s"
    await _each_item_settled_once(scaled.env, task_id, total)
