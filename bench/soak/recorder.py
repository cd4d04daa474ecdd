"""Records every task event the cluster publishes, from a queue of its own on the events
exchange (a quorum queue: it survives the broker node faults like the services' queues)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import msgspec
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from libs.messaging.connection import connect
from proto.events import ItemsSettled
from proto.topology import ALL_EVENTS, Exchange

QUEUE = "soak.recorder"
TERMINAL_EVENTS = ("task.completed", "task.failed", "task.cancelled")


@dataclass
class Recorded:
    # (task, seq) -> every outcome announced for it, in order (one, unless announced twice)
    settled: dict[tuple[str, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    # task -> the terminal statuses its events announced
    finished: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: int = 0
    duplicates: int = 0  # the same message delivered again (its message_id seen before)
    seen: set[str] = field(default_factory=set)


class Recorder:
    def __init__(self) -> None:
        self.recorded = Recorded()
        self._connection: AbstractRobustConnection | None = None
        self._decoder = msgspec.json.Decoder()

    async def start(self, amqp_url: str) -> None:
        self._connection = await connect(amqp_url, name="soak-recorder")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.declare_queue(QUEUE, durable=True,
                                            arguments={"x-queue-type": "quorum"})
        await queue.bind(Exchange.EVENTS, routing_key=ALL_EVENTS)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        recorded = self.recorded
        recorded.messages += 1
        if message.message_id and message.message_id in recorded.seen:
            recorded.duplicates += 1
            await message.ack()
            return
        if message.message_id:
            recorded.seen.add(message.message_id)
        body = self._decoder.decode(message.body)
        kind = body.get("type", "")
        if kind == "items.settled":
            event = msgspec.convert(body, ItemsSettled)
            for item in event.items:
                recorded.settled[(event.task_id, item.seq)].append(item.status)
        elif kind in TERMINAL_EVENTS:
            recorded.finished[str(body["task_id"])].append(str(body["snapshot"]["status"]))
        await message.ack()

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

