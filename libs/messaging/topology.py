"""Declares exchanges and queues. Every queue is declared here and only here, so the
arguments (which RabbitMQ compares on every re-declare) can never disagree between services."""

from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq.exceptions
from aio_pika.abc import AbstractChannel, AbstractQueue

from libs.logging import get_logger
from proto.topology import ALL_EVENTS, Exchange, Queue, dead_letter_queue, work_queue

log = get_logger(__name__)

# RabbitMQ 3.10 quorum queues have no default delivery limit: without one a poison message
# loops forever. After this many deliveries it goes to the dead-letter queue instead.
DELIVERY_LIMIT = 5

_EXCHANGE_TYPES = {
    Exchange.WORK: aio_pika.ExchangeType.DIRECT,
    Exchange.RESULTS: aio_pika.ExchangeType.DIRECT,
    Exchange.CONTROL: aio_pika.ExchangeType.DIRECT,
    Exchange.EVENTS: aio_pika.ExchangeType.TOPIC,
    Exchange.REGISTRY: aio_pika.ExchangeType.DIRECT,
    Exchange.DLX: aio_pika.ExchangeType.DIRECT,
    Exchange.RPC: aio_pika.ExchangeType.DIRECT,
    Exchange.AUTH: aio_pika.ExchangeType.FANOUT,
}


async def declare_exchanges(channel: AbstractChannel) -> None:
    for name, kind in _EXCHANGE_TYPES.items():
        await channel.declare_exchange(name, kind, durable=True)


async def _declare_quorum(channel: AbstractChannel, name: str) -> AbstractQueue:
    dlq = dead_letter_queue(name)
    await channel.declare_queue(dlq, durable=True, arguments={"x-queue-type": "quorum"})
    dlx = await channel.get_exchange(Exchange.DLX)
    queue_dlq = await channel.get_queue(dlq)
    await queue_dlq.bind(dlx, routing_key=name)
    arguments: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": Exchange.DLX.value,
        "x-dead-letter-routing-key": name,
        # at-least-once dead-lettering needs reject-publish overflow; without it a message
        # dead-lettered during a broker hiccup can vanish.
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    return await channel.declare_queue(name, durable=True, arguments=arguments)


async def declare_work_queue(channel: AbstractChannel, route: str) -> AbstractQueue:
    name = work_queue(route)
    queue = await _declare_quorum(channel, name)
    await queue.bind(Exchange.WORK, routing_key=name)
    # Whoever declares a work queue first (a worker, or the scheduler before its first
    # dispatch) also routes its dead letters to the scheduler: a second binding on the DLX.
    dead = await declare_dead_work_queue(channel)
    await dead.bind(Exchange.DLX, routing_key=name)
    return queue


async def declare_dead_work_queue(channel: AbstractChannel) -> AbstractQueue:
    """The scheduler's copy of dead-lettered work. A message it cannot settle after the
    delivery limit is dropped: the operators' `.dlq` copy and the item lease remain."""
    return await channel.declare_queue(Queue.DEAD_WORK, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT})


async def declare_results_queue(channel: AbstractChannel) -> AbstractQueue:
    queue = await _declare_quorum(channel, Queue.RESULTS)
    await queue.bind(Exchange.RESULTS, routing_key=Queue.RESULTS)
    return queue


async def declare_control_queue(channel: AbstractChannel) -> AbstractQueue:
    queue = await _declare_quorum(channel, Queue.CONTROL)
    await queue.bind(Exchange.CONTROL, routing_key=Queue.CONTROL)
    return queue


async def _declare_replicated(channel: AbstractChannel, name: str,
                              arguments: dict[str, Any]) -> AbstractQueue:
    """A durable quorum queue (replicated on every node of a cluster) for messages that are
    only worth their freshness. Earlier versions declared these queues classic; such a queue
    is deleted and declared again as a quorum queue (what it held was stale anyway)."""
    arguments = {"x-queue-type": "quorum", **arguments}
    try:
        return await channel.declare_queue(name, durable=True, arguments=arguments)
    except aiormq.exceptions.ChannelPreconditionFailed:
        log.warning("amqp.queue_redeclared", queue=name, queue_type="quorum")
    # The refused declaration closed the channel: a robust channel reopens on use.
    await channel.reopen()
    await channel.queue_delete(name)
    return await channel.declare_queue(name, durable=True, arguments=arguments)


async def declare_heartbeat_queue(channel: AbstractChannel) -> AbstractQueue:
    # Heartbeats are only worth their freshness: a short TTL keeps a stopped registry's backlog
    # from replaying stale liveness when it comes back.
    queue = await _declare_replicated(channel, Queue.HEARTBEATS,
                                      {"x-message-ttl": 15_000, "x-max-length": 10_000})
    await queue.bind(Exchange.REGISTRY, routing_key=Queue.HEARTBEATS)
    return queue


async def declare_rpc_queue(channel: AbstractChannel, name: Queue) -> AbstractQueue:
    """A request queue, bounded so that a stalled server rejects new calls; each request
    carries an expiration equal to its caller's patience."""
    queue = await _declare_replicated(channel, name,
                                      {"x-max-length": 1000, "x-overflow": "reject-publish"})
    await queue.bind(Exchange.RPC, routing_key=name)
    return queue


async def declare_event_subscription(
    channel: AbstractChannel, bindings: Sequence[str] = (ALL_EVENTS,)
) -> AbstractQueue:
    """A private, auto-deleted queue on the events exchange (for a gateway's live streams)."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for binding in bindings:
        await queue.bind(Exchange.EVENTS, routing_key=binding)
    return queue


async def declare_broadcast_subscription(
    channel: AbstractChannel, exchange: Exchange
) -> AbstractQueue:
    """A private, auto-deleted queue on a fanout exchange: every process sees every message."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange)
    return queue


async def declare_event_queue(
    channel: AbstractChannel, name: str, bindings: Sequence[str]
) -> AbstractQueue:
    """A durable queue on the events exchange shared by a service's instances: each event is
    handled by one of them, and events published while none runs wait for them."""
    queue = await _declare_quorum(channel, name)
    for binding in bindings:
        await queue.bind(Exchange.EVENTS, routing_key=binding)
    return queue
