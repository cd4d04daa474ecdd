"""Request/reply over RabbitMQ, for the few calls that need an answer now (a search needs the
ingester's model). Requests go to `conveyor.rpc` with `reply_to` set to the caller's own
exclusive queue; each carries an expiration equal to the caller's timeout, so a request nobody
served in time is dropped rather than answered late."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import msgspec
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import DeliveryError, PublishError

from libs.logging import get_logger
from libs.messaging.consumer import consume
from libs.messaging.parts import QueuePart
from libs.messaging.topology import declare_rpc_queue
from proto.codec import Decoder, encode
from proto.topology import Exchange, Queue

log = get_logger(__name__)


class RpcUnavailable(Exception):
    """Nobody serves the queue, it is full, or no reply came within the timeout."""


class RpcClient:
    def __init__(self, channel: AbstractChannel, replies: AbstractQueue) -> None:
        self._channel = channel
        self._replies = replies
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    @classmethod
    async def open(cls, connection: AbstractRobustConnection) -> "RpcClient":
        channel = await connection.channel(publisher_confirms=True)
        replies = await channel.declare_queue(exclusive=True, auto_delete=True)
        client = cls(channel, replies)
        await replies.consume(client._on_reply, no_ack=True)
        return client

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(message.body)

    async def call(self, queue: Queue, request: msgspec.Struct, reply: Any,
                   timeout_s: float) -> Any:
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            exchange = await self._channel.get_exchange(Exchange.RPC, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    encode(request), content_type="application/json",
                    correlation_id=correlation_id, reply_to=self._replies.name,
                    expiration=timeout_s, delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                ),
                routing_key=queue, mandatory=True,
            )
            body = await asyncio.wait_for(future, timeout_s)
        except (DeliveryError, PublishError) as exc:
            raise RpcUnavailable(f"{queue} is not being served") from exc
        except TimeoutError as exc:
            raise RpcUnavailable(f"{queue} did not answer within {timeout_s:g}s") from exc
        finally:
            self._pending.pop(correlation_id, None)
        return Decoder(reply).decode(body)


class RpcServer(QueuePart):
    """Answers requests on `queue_name` with `handler`'s reply (a part of a service's
    lifecycle). The handler should turn its own failures into an error reply: an exception
    here requeues the request."""

    def __init__(self, connection: AbstractRobustConnection, queue_name: Queue, contract: Any,
                 handler: Callable[[Any], Awaitable[msgspec.Struct]], *, prefetch: int) -> None:
        async def declare(channel: AbstractChannel) -> AbstractQueue:
            return await declare_rpc_queue(channel, queue_name)

        super().__init__(connection, declare, contract, prefetch=prefetch)
        self._handler = handler

    async def _subscribe(self, queue: AbstractQueue) -> str:
        channel = self._channel
        assert channel is not None

        async def on_request(request: Any, message: AbstractIncomingMessage) -> None:
            reply = await self._handler(request)
            if not message.reply_to:
                return
            await channel.default_exchange.publish(
                aio_pika.Message(
                    encode(reply), content_type="application/json",
                    correlation_id=message.correlation_id,
                    delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                ),
                routing_key=message.reply_to, mandatory=False,
            )

        return await consume(queue, self._contract, on_request)
