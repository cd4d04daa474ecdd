"""The live-stream use cases: the snapshot a new subscriber gets first, and the subscribe
protocol of the WebSocket (`subscribe` / `unsubscribe` / `ping`), applied to a subscriber of
the gateway's EventHub.

Client -> server: {"action": "subscribe" | "unsubscribe", "channels": [...],
                   "filters": {"taskId": "..."}} or {"action": "ping"}.
Without a taskId filter a subscription covers every task the caller may see."""

from typing import Any

import msgspec

from libs.inputs import InputRejected, check_json
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, iso_now
from services.gateway.stream.dto import ClientMessage
from services.gateway.stream.hub import EventHub, Subscriber
from services.gateway.stream.presenters import CHANNEL_ALIASES, snapshot_message
from services.gateway.tasks.service import TaskService

MAX_MESSAGE_BYTES = 16 * 1024
MAX_TASK_FILTERS = 100

_decoder = msgspec.json.Decoder(ClientMessage)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "payload": {"code": code, "message": message},
            "timestamp": iso_now()}


class StreamService:
    def __init__(self, hub: EventHub, task_service: TaskService) -> None:
        self.hub = hub
        self._tasks = task_service

    async def snapshot(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """Where a task the caller may see stands now (404 otherwise)."""
        return snapshot_message(await self._tasks.get(principal, task_id))

    async def apply(self, subscriber: Subscriber, raw: str | bytes) -> dict[str, Any] | None:
        """Apply one client message to `subscriber`; the reply to send, if any."""
        if len(raw) > MAX_MESSAGE_BYTES:
            return _error("VALIDATION_ERROR", f"message larger than {MAX_MESSAGE_BYTES} bytes")
        try:  # the gateway's input boundary, for the frames of a socket
            check_json(raw.encode() if isinstance(raw, str) else raw, field="message")
            message = _decoder.decode(raw)
        except InputRejected as exc:
            return _error("VALIDATION_ERROR", str(exc))
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            return _error("VALIDATION_ERROR", f"invalid message: {exc}")
        if message.action == "ping":
            return {"type": "pong", "payload": {}, "timestamp": iso_now()}
        channels = {CHANNEL_ALIASES.get(c) for c in message.channels} if message.channels else {
            "task_progress"}
        if None in channels:
            return _error("VALIDATION_ERROR",
                          f"channels: unknown; use any of {sorted(CHANNEL_ALIASES)}")
        task_id = message.filters.task_id
        if message.action == "unsubscribe":
            if task_id:
                subscriber.task_ids.discard(task_id)
            else:
                subscriber.all_tasks = False
            return {"type": "unsubscribed", "payload": {"taskId": task_id}, "timestamp": iso_now()}
        if message.action != "subscribe":
            return _error("VALIDATION_ERROR", "action: use subscribe, unsubscribe or ping")
        subscriber.channels |= {c for c in channels if c}
        if task_id is None:
            subscriber.all_tasks = True
            return {"type": "subscribed", "payload": {"channels": sorted(subscriber.channels)},
                    "timestamp": iso_now()}
        if len(subscriber.task_ids) >= MAX_TASK_FILTERS:
            return _error("VALIDATION_ERROR", f"at most {MAX_TASK_FILTERS} task subscriptions")
        try:
            snapshot = await self.snapshot(subscriber.principal, task_id)
        except ApiError as exc:
            return _error(exc.code, exc.message)
        subscriber.task_ids.add(task_id)
        subscriber.offer({"type": "subscribed", "payload": {"taskId": task_id,
                          "channels": sorted(subscriber.channels)}, "timestamp": iso_now()})
        return snapshot
