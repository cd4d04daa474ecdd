"""Fans task events from the events exchange out to this gateway's live subscribers.

Each gateway process binds its own private queue, so any number of gateways each see every
event. Subscribers are indexed by tenant: an event is only ever offered to its own tenant."""

import asyncio
from collections import defaultdict
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from libs.messaging.topology import declare_event_subscription
from proto.events import TaskEvent
from proto.topology import TASK_EVENT_BINDINGS
from services.gateway.auth.repository import Principal
from services.gateway.stream.presenters import TASK_CHANNEL, channel_of, to_wire

REVOKED_MESSAGE: dict[str, Any] = {
    "type": "error", "payload": {"code": "TOKEN_REVOKED", "message": "the token was revoked"}}


class Subscriber:
    """One live client. Its queue is bounded: a client too slow to read loses the oldest
    progress messages, never the gateway's memory."""

    def __init__(self, principal: Principal, token_hash: bytes | None = None,
                 max_queued: int = 1000) -> None:
        self.principal = principal
        self.token_hash = token_hash  # a client stream: closed when this token is revoked
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(max_queued)
        self.revoked = asyncio.Event()  # its token was revoked: the stream must end now
        self.task_ids: set[str] = set()
        self.all_tasks = False
        self.channels: set[str] = {TASK_CHANNEL}

    def wants(self, event: TaskEvent) -> bool:
        owner = self.principal.owner_filter
        if owner is not None and event.user_id != owner:
            return False
        if channel_of(event) not in self.channels:
            return False
        return self.all_tasks or event.task_id in self.task_ids

    def offer(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class EventHub:
    def __init__(self) -> None:
        self._by_tenant: dict[str, set[Subscriber]] = defaultdict(set)

    @staticmethod
    async def declare(channel: AbstractChannel) -> AbstractQueue:
        """This process's private queue of task and item events."""
        return await declare_event_subscription(channel, TASK_EVENT_BINDINGS)

    def add(self, subscriber: Subscriber) -> None:
        self._by_tenant[subscriber.principal.tenant_id].add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        subscribers = self._by_tenant.get(subscriber.principal.tenant_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_tenant[subscriber.principal.tenant_id]

    def close_token(self, token_hash: bytes) -> int:
        """End every stream opened with this token (revoked); returns how many."""
        doomed = [subscriber for subscribers in self._by_tenant.values()
                  for subscriber in subscribers if subscriber.token_hash == token_hash]
        for subscriber in doomed:
            self.remove(subscriber)
            subscriber.offer(REVOKED_MESSAGE)  # the stream's last message
            subscriber.revoked.set()
        return len(doomed)

    async def dispatch(self, event: TaskEvent, _: AbstractIncomingMessage) -> None:
        subscribers = self._by_tenant.get(event.tenant_id)
        if not subscribers:
            return
        message = to_wire(event)
        for subscriber in subscribers:
            if subscriber.wants(event):
                subscriber.offer(message)
