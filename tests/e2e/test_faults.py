"""Faults lose no accepted work: a worker killed mid-item, the broker restarting, the
scheduler killed, a poison message. Each ends with every item done exactly once."""

from __future__ import annotations

import asyncio
import signal

import aio_pika
from sqlalchemy import text

from libs.db.engine import create_engine
from proto.topology import Exchange, dead_letter_queue, work_queue
from tests.e2e.conftest import Api, Stack
from tests.harness import postgres_restart, rabbitmq_restart


def _items(count: int, sleep_ms: int) -> list[dict[str, object]]:
    return [{"value": i, "sleep_ms": sleep_ms} for i in range(count)]


async def _assert_each_item_done_once(stack: Stack, task_id: str, total: int) -> None:
    """The task's counters (the effect of applying each result) match the items exactly: a
    result applied twice would count twice."""
    db = create_engine(stack.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    async with db.connect() as conn:
        row = (await conn.execute(text(
            """SELECT t.status, t.done, t.failed, t.inflight,
                (SELECT count(*) FROM task_items i WHERE i.task_id = t.id
                 AND i.status = 'done') AS items_done
            FROM tasks t WHERE t.id = :id"""), {"id": task_id})).one()
    await db.dispose()
    assert (row.status, row.done, row.items_done, row.failed, row.inflight) == (
        "completed", total, total, 0, 0)


async def test_worker_killed_mid_item_loses_nothing(stack: Stack, alice: Api) -> None:
    spare = await stack.cluster.start("echo", CONVEYOR_INSTANCE_NAME="echo-spare")
    await stack.cluster.wait_for_log(spare, "ready")
    stream = await stack.open_stream(alice)
    task = await alice.create_echo(_items(300, sleep_ms=50), concurrency=20, autoStart=False)
    await stream.send({"action": "subscribe", "channels": ["items", "task_progress"],
                       "filters": {"taskId": task["taskId"]}})
    await stream.wait_for("subscribed")
    await alice.command(task["taskId"], "start")
    await alice.wait_until(task["taskId"], lambda t: t["completedItems"] >= 60)

    victim = stack.workers[0]
    assert await stack.cluster.kill(victim, signal.SIGKILL) == -signal.SIGKILL
    final = await alice.wait_finished(task["taskId"], timeout_s=90)
    assert final["status"] == "completed"
    await _assert_each_item_done_once(stack, task["taskId"], 300)
    await stream.wait_for("task_completed")
    settled = [i["seq"] for m in stream.messages if m["type"] == "items_settled"
               for i in m["payload"]["items"]]
    assert sorted(settled) == list(range(300)), "each item settled exactly once"
    await stream.close()
    stack.workers[0] = await stack.cluster.restart(victim)
    await stack.cluster.wait_for_log(stack.workers[0], "ready")


async def test_rabbitmq_restart_mid_task_loses_nothing(stack: Stack, alice: Api) -> None:
    task = await alice.create_echo(_items(300, sleep_ms=30), concurrency=20)
    await alice.wait_until(task["taskId"], lambda t: t["completedItems"] >= 50)
    await rabbitmq_restart()
    final = await alice.wait_finished(task["taskId"], timeout_s=120)
    assert final["status"] == "completed"
    await _assert_each_item_done_once(stack, task["taskId"], 300)
    after = await alice.create_echo(_items(20, sleep_ms=0))
    assert (await alice.wait_finished(after["taskId"], timeout_s=60))["status"] == "completed"


async def test_scheduler_killed_recovers_from_postgres_alone(stack: Stack, alice: Api) -> None:
    task = await alice.create_echo(_items(300, sleep_ms=20), concurrency=20)
    await alice.wait_until(task["taskId"], lambda t: t["completedItems"] >= 50)
    scheduler = next(h for h in stack.cluster.handles if h.name == "scheduler" and h.running())
    await stack.cluster.kill(scheduler, signal.SIGKILL)
    await asyncio.sleep(1.0)
    restarted = await stack.cluster.restart(scheduler)
    await stack.cluster.wait_for_log(restarted, "ready")
    final = await alice.wait_finished(task["taskId"], timeout_s=90)
    assert final["status"] == "completed"
    await _assert_each_item_done_once(stack, task["taskId"], 300)


async def test_malformed_messages_are_dead_lettered_and_good_ones_processed(
    stack: Stack, alice: Api
) -> None:
    connection = await aio_pika.connect(stack.env["CONVEYOR_AMQP_URL"])
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(Exchange.WORK)
    dlq = await channel.get_queue(dead_letter_queue(work_queue("echo")))
    await dlq.purge()  # dead letters of earlier tests on this stack (e.g. a crashing finalize)
    poison = [b"this is not json", b'{"type": "process_items", "task_id": 42}']
    for body in poison:
        await exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=work_queue("echo"))
    task = await alice.create_echo(_items(50, sleep_ms=0))
    assert (await alice.wait_finished(task["taskId"]))["status"] == "completed"

    received = []
    for _ in range(100):
        message = await dlq.get(fail=False)
        if message is None:
            if len(received) >= len(poison):
                break
            await asyncio.sleep(0.1)
            continue
        received.append(message.body)
        await message.ack()
    await connection.close()
    assert sorted(received) == sorted(poison)


async def test_postgres_restart_mid_task_loses_nothing(stack: Stack, alice: Api) -> None:
    task = await alice.create_echo(_items(300, sleep_ms=20), concurrency=20)
    await alice.wait_until(task["taskId"], lambda t: t["completedItems"] >= 50)
    await postgres_restart()
    deadline = asyncio.get_running_loop().time() + 120
    while True:  # the gateway answers 500 while its pool reconnects
        try:
            final = await alice.wait_finished(task["taskId"], timeout_s=120)
            break
        except AssertionError:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.5)
    assert final["status"] == "completed"
    await _assert_each_item_done_once(stack, task["taskId"], 300)
