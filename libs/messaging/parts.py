"""Consumers as parts of a service's lifecycle (`libs.lifecycle`): each consumes one queue on
its own channel of the process's connection, starts with the service and stops consuming when
the service drains."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection

from libs.messaging.consumer import BatchHandler, Handler, consume, consume_batches

Declare = Callable[[AbstractChannel], Awaitable[AbstractQueue]]


class QueuePart:
    """One queue consumed on its own channel; subclasses say how (`_subscribe`)."""

    def __init__(self, connection: AbstractRobustConnection, declare: Declare, contract: Any,
                 *, prefetch: int) -> None:
        self._connection = connection
        self._declare = declare
        self._contract = contract
        self._prefetch = prefetch
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._batches: asyncio.Task[None] | None = None

    async def _subscribe(self, queue: AbstractQueue) -> str:
        raise NotImplementedError

    async def start(self) -> None:
        self._channel = channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await self._declare(channel)
        self._tag = await self._subscribe(self._queue)

    async def drain(self) -> None:
        if self._queue is not None and self._tag is not None:
            with contextlib.suppress(Exception):  # the broker may be away: nothing to cancel
                await self._queue.cancel(self._tag)
        if self._batches is not None:
            self._batches.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batches


class QueueConsumer(QueuePart):
    """`handler(message, raw)` for each message."""

    def __init__(self, connection: AbstractRobustConnection, declare: Declare, contract: Any,
                 handler: Handler, *, prefetch: int) -> None:
        super().__init__(connection, declare, contract, prefetch=prefetch)
        self._handler = handler

    async def _subscribe(self, queue: AbstractQueue) -> str:
        return await consume(queue, self._contract, self._handler)


class BatchConsumer(QueuePart):
    """`handler(messages)` for each batch of up to `batch` messages (see `consume_batches`)."""

    def __init__(self, connection: AbstractRobustConnection, declare: Declare, contract: Any,
                 handler: BatchHandler, *, prefetch: int, batch: int) -> None:
        super().__init__(connection, declare, contract, prefetch=prefetch)
        self._handler = handler
        self._batch = batch

    async def _subscribe(self, queue: AbstractQueue) -> str:
        tag, self._batches = await consume_batches(queue, self._contract, self._handler,
                                                   max_batch=self._batch)
        return tag
