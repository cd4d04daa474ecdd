"""The one consumer runner: decode -> bind log context -> handler -> ack, or by error class:
`Permanent` and undecodable messages are dead-lettered at once; anything else is requeued and
the quorum queue's delivery limit dead-letters it if it keeps failing.

A handler acks only by returning: it must have committed its effect first.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from opentelemetry.trace import SpanKind

from libs.errors import Permanent
from libs.inputs import scrub_json
from libs.logging import get_logger
from libs.observability import tracing
from proto.codec import Decoder

log = get_logger(__name__)

Handler = Callable[[Any, AbstractIncomingMessage], Awaitable[None]]
BatchHandler = Callable[[Sequence[Any]], Awaitable[None]]


def _bind_context(message: AbstractIncomingMessage) -> None:
    headers = message.headers or {}
    structlog.contextvars.bind_contextvars(
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        task_id=headers.get("x-task-id"),
    )


def _permanent(exc: BaseException) -> bool:
    return isinstance(exc, Permanent | msgspec.DecodeError | msgspec.ValidationError
                      | RecursionError)


def _decode(decoder: Decoder, body: bytes) -> Any:
    """The consumer side of the input boundary: strings PostgreSQL cannot store (NUL, lone
    surrogates; e.g. an error text quoting a hostile template) are scrubbed before any handler
    sees them, so they can neither fail its transaction nor loop the message."""
    return decoder.decode(scrub_json(body))


def requeue_delay_s(message: AbstractIncomingMessage) -> float:
    """Back off before handing a failed message back: a dependency that is restarting (the
    database, a few seconds) must not burn the delivery limit in milliseconds and send good
    work to the dead-letter queue. 0.5, 1, 2, 4, 8 s: ~15 s before the limit of 5."""
    count = (message.headers or {}).get("x-delivery-count")
    deliveries = count if isinstance(count, int) else 0
    return float(min(30.0, 0.5 * 2**deliveries))


async def _settle_failure(message: AbstractIncomingMessage, exc: BaseException, *,
                          delay: bool = True) -> None:
    try:
        if _permanent(exc):
            log.error("message.dead_lettered", error=str(exc), queue=message.routing_key)
            await message.reject(requeue=False)
        else:
            log.warning("message.requeued", error=repr(exc), redelivered=message.redelivered)
            if delay:
                await asyncio.sleep(requeue_delay_s(message))
            await message.nack(requeue=True)
    except Exception:  # channel already gone: the broker redelivers by itself
        log.warning("message.settle_failed", exc_info=True)


async def _ack(message: AbstractIncomingMessage) -> None:
    try:
        await message.ack()
    except Exception:  # reconnected meanwhile: the old delivery tag is void and will be redelivered
        log.warning("message.ack_failed", exc_info=True)


async def consume(queue: AbstractQueue, contract: Any, handler: Handler) -> str:
    """Handle each message on its own, concurrently up to the channel's prefetch. The handler
    also gets the raw message (for `redelivered`). Returns the consumer tag."""
    decoder = Decoder(contract)

    async def on_message(message: AbstractIncomingMessage) -> None:
        with structlog.contextvars.bound_contextvars(), tracing.extracted(message.headers):
            _bind_context(message)
            try:
                decoded = _decode(decoder, message.body)
                with tracing.span(f"consume {message.routing_key}",
                                  kind=SpanKind.CONSUMER):
                    await handler(decoded, message)
            except Exception as exc:
                await _settle_failure(message, exc)
                return
            await _ack(message)

    return await queue.consume(on_message)


async def consume_batches(
    queue: AbstractQueue,
    contract: Any,
    handler: BatchHandler,
    *,
    max_batch: int,
    max_wait_s: float = 0.0,
) -> tuple[str, asyncio.Task[None]]:
    """Hand messages to `handler` in batches, one batch at a time, so its database work is one
    transaction per batch; while a batch is handled the next one accumulates. Returns the
    consumer tag and the task handing out batches."""
    decoder = Decoder(contract)
    inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def on_message(message: AbstractIncomingMessage) -> None:
        await inbox.put(message)

    async def drain() -> None:
        while True:
            batch = [await inbox.get()]
            if max_wait_s:
                await asyncio.sleep(max_wait_s)
            while len(batch) < max_batch and not inbox.empty():
                batch.append(inbox.get_nowait())
            decoded: list[Any] = []
            accepted: list[AbstractIncomingMessage] = []
            for message in batch:
                try:
                    decoded.append(_decode(decoder, message.body))
                    accepted.append(message)
                except Exception as exc:
                    await _settle_failure(message, exc)
            if not accepted:
                continue
            try:
                await handler(decoded)
            except Exception as exc:
                log.exception("batch.failed", size=len(accepted))
                # One back-off for the batch (not one per message), then all go back.
                await asyncio.sleep(max(requeue_delay_s(m) for m in accepted))
                for message in accepted:
                    await _settle_failure(message, exc, delay=False)
                continue
            for message in accepted:
                await _ack(message)

    tag = await queue.consume(on_message)
    return tag, asyncio.create_task(drain(), name=f"drain:{queue.name}")
