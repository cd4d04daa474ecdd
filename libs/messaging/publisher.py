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


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message encoded where it was decided, with the context of that moment (its trace,
    correlation and task ids): what the outbox stores and its relay publishes later."""

    exchange: Exchange
    routing_key: str
    message_type: str
    body: bytes
    headers: dict[str, str]
    task_id: str | None = None
    persistent: bool = True
    mandatory: bool = True
    correlation_id: str | None = None
    expiration_s: float | None = None

    @classmethod
    def of(cls, out: Outgoing) -> "Envelope":
        context = structlog.contextvars.get_contextvars()
        headers: dict[str, str] = {"x-type": type(out.message).__name__}
        tracing.inject(headers)
        correlation = context.get("correlation_id")
        task_id = out.task_id or context.get("task_id")
        if task_id:
            headers["x-task-id"] = str(task_id)
        return cls(
            exchange=out.exchange, routing_key=out.routing_key,
            message_type=type(out.message).__name__, body=encode(out.message), headers=headers,
            task_id=str(task_id) if task_id else None, persistent=out.persistent,
            mandatory=out.mandatory, correlation_id=str(correlation) if correlation else None,
            expiration_s=out.expiration_s,
        )


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
        await self.publish_envelope(Envelope.of(out))

    async def publish_envelope(self, envelope: "Envelope") -> None:
        # x-sent-at: the receiver's time-in-queue metric (libs/worker/runtime.py).
        headers: HeadersType = {**envelope.headers, "x-sent-at": time.time()}
        message = aio_pika.Message(
            envelope.body,
            content_type="application/json",
            delivery_mode=(
                aio_pika.DeliveryMode.PERSISTENT
                if envelope.persistent
                else aio_pika.DeliveryMode.NOT_PERSISTENT
            ),
            message_id=uuid.uuid4().hex,
            correlation_id=envelope.correlation_id,
            expiration=envelope.expiration_s,
            headers=headers,
        )
        exchange = await self._exchange(envelope.exchange)
        await exchange.publish(message, routing_key=envelope.routing_key,
                               mandatory=envelope.mandatory)

    async def publish_many(self, messages: Iterable[Outgoing]) -> None:
        await asyncio.gather(*(self.publish(out) for out in messages))

    async def close(self) -> None:
        await self._channel.close()
