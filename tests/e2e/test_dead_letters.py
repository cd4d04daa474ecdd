"""A work message that reaches the dead-letter queue settles its task within seconds, with the
reason, instead of leaving it to a lease (30 minutes for a documents ZIP)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aio_pika

from proto.codec import encode
from proto.topology import Exchange, work_queue
from proto.work import ProcessItems, WorkItem
from tests.e2e.conftest import Api, Stack

SETTLED_WITHIN_S = 5.0


async def test_a_dead_lettered_finalize_fails_its_task_within_seconds(
    stack: Stack, alice: Api
) -> None:
    regular = stack.workers[0]
    await stack.cluster.kill(regular)  # only the drill instance may take the finalize step
    drill = await stack.cluster.start("echo", CONVEYOR_INSTANCE_NAME="echo-drill",
                                      CONVEYOR_ECHO_CRASH_DRILLS="1")
    await stack.cluster.wait_for_log(drill, "worker.ready")
    try:
        task = await alice.create_echo([{"value": i} for i in range(3)], finalize=True,
                                       params={"finalize_fail": "crash"})
        crashes, crashed_at, settled_after = 0, 0.0, None
        deadline = time.monotonic() + 120
        while settled_after is None and time.monotonic() < deadline:
            if (await alice.task(task["taskId"]))["status"] == "failed":
                settled_after = time.monotonic() - crashed_at
            elif not drill.running():  # the drill killed itself when the step reached it
                crashes, crashed_at = crashes + 1, time.monotonic()
                await asyncio.sleep(0.5)  # time to see the task fail without a restart
                if (await alice.task(task["taskId"]))["status"] != "failed":
                    drill = await stack.cluster.restart(drill)
            else:
                await asyncio.sleep(0.05)
        final = await alice.task(task["taskId"])
        print(f"finalize dead-lettered after {crashes} crashed deliveries; task failed "
              f"{settled_after:.2f}s after the last one")
        assert settled_after is not None and settled_after < SETTLED_WITHIN_S
        assert final["status"] == "failed"
        assert final["errorMessage"].startswith("finalization failed: work message "
                                                "dead-lettered: delivered")
        assert final["completedItems"] == 3
    finally:
        if drill.running():
            await stack.cluster.kill(drill)
        stack.workers[0] = await stack.cluster.restart(regular)
        await stack.cluster.wait_for_log(stack.workers[0], "worker.ready")


async def test_dead_lettered_items_fail_with_the_reason(stack: Stack, alice: Api) -> None:
    """A work message refused as permanent (a kind its queue's workers do not handle) fails
    exactly its items, at once, and the task ends without waiting for their lease."""
    task = await alice.create_echo([{"value": i, "sleep_ms": 3000} for i in range(2)],
                                   concurrency=1)
    task_id = task["taskId"]

    async def first_item() -> dict[str, Any]:
        response = await alice.http.get(f"/api/v1/tasks/{task_id}/items")
        return response.json()["data"]["items"][0]  # type: ignore[no-any-return]

    deadline = time.monotonic() + 10
    while (item := await first_item())["status"] not in ("dispatched", "processing"):
        assert time.monotonic() < deadline, item
        await asyncio.sleep(0.05)
    forged = ProcessItems(task_id=task_id, kind="no-such-kind", tenant_id="acme",
                          items=[WorkItem(seq=item["seq"], attempt=item["attempt"])])
    connection = await aio_pika.connect(stack.env["CONVEYOR_AMQP_URL"])
    channel = await connection.channel()
    await (await channel.get_exchange(Exchange.WORK)).publish(
        aio_pika.Message(encode(forged)), routing_key=work_queue("echo"))
    await connection.close()
    deadline = time.monotonic() + 2.5  # before the echo item's own 3 s are up
    while (item := await first_item())["status"] != "failed":
        assert time.monotonic() < deadline, item
        await asyncio.sleep(0.05)
    assert item["error"] == ("work message dead-lettered: refused by the worker as impossible "
                             "to process")
    final = await alice.wait_finished(task_id, timeout_s=30)
    assert (final["status"], final["completedItems"], final["failedItems"]) == (
        "partial_success", 1, 1)
