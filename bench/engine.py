"""Engine overhead: no-op (echo) items per second through the whole engine
(gateway -> scheduler -> worker -> result -> PostgreSQL), next to the bare publish+consume rate
of the same RabbitMQ with the same delivery guarantees (persistent, confirmed, quorum queue,
acked), measured in the same run."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from typing import Any

import aio_pika
import httpx
import uvloop

from bench.stack import isolated_stack

ITEMS = 20_000
BROKER_MESSAGES = 20_000
PUBLISH_WINDOW = 200  # confirms in flight, as the engine keeps ~200 items in flight


async def _consume(url: str, queue_name: str, count: int, ready: Any, done: Any) -> None:
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=PUBLISH_WINDOW)
    queue = await channel.get_queue(queue_name)
    received = 0
    finished = asyncio.Event()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal received
        await message.ack()
        received += 1
        if received == count:
            finished.set()

    await queue.consume(on_message)
    ready.set()
    await finished.wait()
    done.value = time.perf_counter()
    await connection.close()


def _consumer_process(url: str, queue_name: str, count: int, ready: Any, done: Any) -> None:
    uvloop.run(_consume(url, queue_name, count, ready, done))


async def bare_broker_rate(url: str) -> float:
    """Publisher (this process) and consumer (another process), as the engine's services are."""
    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue(
        "bench.bare", durable=True, arguments={"x-queue-type": "quorum"})
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Value("d", 0.0)
    consumer = context.Process(target=_consumer_process,
                               args=(url, queue.name, BROKER_MESSAGES, ready, done))
    consumer.start()
    await asyncio.to_thread(ready.wait, 30)
    exchange = channel.default_exchange
    body = b'{"task_id":"00000000-0000-0000-0000-000000000000","seq":1}'
    started = time.perf_counter()
    for _ in range(0, BROKER_MESSAGES, PUBLISH_WINDOW):
        await asyncio.gather(*(
            exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                             routing_key=queue.name)
            for _ in range(PUBLISH_WINDOW)))
    await asyncio.to_thread(consumer.join, 120)
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    return float(BROKER_MESSAGES / (done.value - started))


async def engine_rate(base_url: str, token: str) -> tuple[float, float]:
    """(items/s from create to completed, seconds the create request took)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        body = {"kind": "echo", "items": [{"value": i} for i in range(ITEMS)],
                "concurrency": 400}
        started = time.perf_counter()
        response = await client.post("/api/v1/tasks", json=body)
        response.raise_for_status()
        created = time.perf_counter() - started
        task_id = response.json()["data"]["taskId"]
        while True:
            task = (await client.get(f"/api/v1/tasks/{task_id}")).json()["data"]
            if task["status"] not in ("pending", "running"):
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    assert task["status"] == "completed" and task["completedItems"] == ITEMS, task
    return ITEMS / elapsed, created


async def run() -> dict[str, float]:
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"]) as (cluster, url,
                                                                               token):
        await engine_rate(url, token)  # warm-up: JIT-free, but caches, pools, queues
        engine, created = await engine_rate(url, token)
        bare = await bare_broker_rate(cluster.env["CONVEYOR_AMQP_URL"])
    figures = {"engine_items_per_s": engine, "bare_broker_msgs_per_s": bare,
               "ratio": engine / bare, "create_request_s": created}
    print(f"engine: {engine:,.0f} no-op items/s end to end ({ITEMS:,} items, create took "
          f"{created:.2f}s)")
    print(f"bare broker: {bare:,.0f} msgs/s publish+consume (persistent, confirmed, quorum)")
    print(f"ratio engine/bare: {engine / bare:.2f}")
    return figures


if __name__ == "__main__":
    uvloop.run(run())
