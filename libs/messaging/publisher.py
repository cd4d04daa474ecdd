"""Publishing: persistent messages, publisher confirms, mandatory routing.

`publish` returns once the broker confirmed the message; `publish_many` pipelines confirms
(one round trip for the lot instead of one per message: ~0.8 ms each here when chained)."""

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import aio_pika
import msgspec
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractRobustConnection,
    HeadersType,
)

from libs.observability import tracing
from proto.codec import encode
from proto.events import Event
from proto.topology import Exchange, event_key


@dataclass(frozen=True, slots=True)
class Outgoing:
    exchange: Exchange
    routing_key: str
    message: msgspec.Struct
    task_id: str | None = None
    persistent: bool = True
    expiration_s: float | None = None

    @classmethod
    def event(cls, event: Event, task_id: str | None = None) -> "Outgoing":
        """A public event, on the events exchange under the routing key its tag gives."""
        return cls(Exchange.EVENTS, event_key(event), event, task_id=task_id)

    @property
    def mandatory(self) -> bool:
        # Work and commands must reach a queue (an unroutable one is a bug and raises);
        # events are broadcasts that may legitimately have no listener yet.
        return self.exchange not in (Exchange.EVENTS, Exchange.AUTH)


class Publisher:
    def __init__(self, channel: AbstractChannel) -> None:
        self._channel = channel
        self._exchanges: dict[Exchange, AbstractExchange] = {}

    @classmethod
    async def open(cls, connection: AbstractRobustConnection) -> "Publisher":
        return cls(await connection.channel(publisher_confirms=True))

    @property
    def channel(self) -> AbstractChannel:
        return self._channel

    async def _exchange(self, name: Exchange) -> AbstractExchange:
        if name not in self._exchanges:
            self._exchanges[name] = await self._channel.get_exchange(name, ensure=False)
        return self._exchanges[name]

    async def publish(self, out: Outgoing) -> None:
        context = structlog.contextvars.get_contextvars()
        # x-sent-at: the receiver's time-in-queue metric (libs/worker/runtime.py).
        headers: HeadersType = {"x-type": type(out.message).__name__, "x-sent-at": time.time()}
        tracing.inject(headers)
        correlation = context.get("correlation_id")
        task_id = out.task_id or context.get("task_id")
        if task_id:
            headers["x-task-id"] = str(task_id)
        message = aio_pika.Message(
            encode(out.message),
            content_type="application/json",
            delivery_mode=(
                aio_pika.DeliveryMode.PERSISTENT
                if out.persistent
                else aio_pika.DeliveryMode.NOT_PERSISTENT
            ),
            message_id=uuid.uuid4().hex,
            correlation_id=str(correlation) if correlation else None,
            expiration=out.expiration_s,
            headers=headers,
        )
        exchange = await self._exchange(out.exchange)
        await exchange.publish(message, routing_key=out.routing_key, mandatory=out.mandatory)

    async def publish_many(self, messages: Iterable[Outgoing]) -> None:
        await asyncio.gather(*(self.publish(out) for out in messages))

    async def close(self) -> None:
        await self._channel.close()
