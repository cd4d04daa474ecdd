"""`/v2/stream` (seed 000's subscribe protocol) and an SSE stream per task.

Client -> server: {"action": "subscribe" | "unsubscribe", "channels": [...],
                   "filters": {"taskId": "..."}} or {"action": "ping"}.
Without a taskId filter a subscription covers every task the caller may see."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from litestar import Request, WebSocket, get, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect
from litestar.response import ServerSentEvent, ServerSentEventMessage

from libs.inputs import InputRejected, check_json
from services.gateway.auth.middleware import BEARER_SUBPROTOCOL, subprotocols
from services.gateway.auth.repository import Principal, token_hash
from services.gateway.errors import ApiError, iso_now
from services.gateway.openapi import documented
from services.gateway.stream.hub import REVOKED_MESSAGE, EventHub, Subscriber
from services.gateway.stream.schemas import TaskEventMessage
from services.gateway.stream.wire import CHANNEL_ALIASES, TERMINAL_TYPES, snapshot_message
from services.gateway.tasks.commands import TaskCommands

MAX_MESSAGE_BYTES = 16 * 1024
MAX_TASK_FILTERS = 100
SSE_KEEPALIVE_S = 15.0


class Filters(msgspec.Struct, frozen=True, rename="camel"):
    task_id: str | None = None


class ClientMessage(msgspec.Struct):
    action: str
    channels: list[str] = []
    filters: Filters = Filters()


_decoder = msgspec.json.Decoder(ClientMessage)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "payload": {"code": code, "message": message},
            "timestamp": iso_now()}


async def _visible_snapshot(state: State, principal: Principal, task_id: str) -> dict[str, Any]:
    commands: TaskCommands = state.commands
    async with state.db.connect() as conn:
        task = await commands.load(conn, principal, task_id)
    return snapshot_message(task)


async def _apply(state: State, subscriber: Subscriber, raw: str | bytes) -> dict[str, Any] | None:
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
        snapshot = await _visible_snapshot(state, subscriber.principal, task_id)
    except ApiError as exc:
        return _error(exc.code, exc.message)
    subscriber.task_ids.add(task_id)
    subscriber.offer({"type": "subscribed", "payload": {"taskId": task_id,
                      "channels": sorted(subscriber.channels)}, "timestamp": iso_now()})
    return snapshot


REVOKED_CLOSE_CODE = 4401  # application range (4000-4999): 401-like, do not reconnect with it


def _subscriber(connection: Request[Any, Any, Any] | WebSocket[Any, Any, Any]) -> Subscriber:
    principal = connection.user
    assert isinstance(principal, Principal)
    return Subscriber(principal, token_hash(str(connection.auth)))


async def _serve(socket: WebSocket[Any, Any, Any], task_id: str | None) -> None:
    state = socket.app.state
    hub: EventHub = state.hub
    subscriber = _subscriber(socket)
    # A client that authenticated with the subprotocol pair expects it echoed back.
    offered = BEARER_SUBPROTOCOL in subprotocols(socket)
    await socket.accept(subprotocols=BEARER_SUBPROTOCOL if offered else None)
    hub.add(subscriber)

    async def pump() -> None:
        while True:
            await socket.send_json(await subscriber.queue.get())

    async def listen() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            if task_id:
                reply = await _apply(state, subscriber, msgspec.json.encode(
                    {"action": "subscribe", "filters": {"taskId": task_id}}))
                if reply:
                    subscriber.offer(reply)
            while True:
                reply = await _apply(state, subscriber, await socket.receive_data(mode="text"))
                if reply:
                    subscriber.offer(reply)

    parts = [asyncio.create_task(pump()), asyncio.create_task(listen()),
             asyncio.create_task(subscriber.revoked.wait())]
    try:
        await asyncio.wait(parts, return_when=asyncio.FIRST_COMPLETED)
        if subscriber.revoked.is_set():
            parts[0].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await parts[0]
            with contextlib.suppress(Exception):  # the client may be gone already
                while not subscriber.queue.empty():  # ends with the TOKEN_REVOKED error
                    await socket.send_json(subscriber.queue.get_nowait())
                await socket.close(code=REVOKED_CLOSE_CODE, reason="token revoked")
    finally:
        hub.remove(subscriber)
        for part in parts:
            part.cancel()
        for part in parts:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await part


@websocket("/v2/stream")
async def stream(socket: WebSocket[Any, Any, Any]) -> None:
    await _serve(socket, None)


@websocket("/v2/stream/{task_id:str}")
async def stream_task(socket: WebSocket[Any, Any, Any], task_id: str) -> None:
    await _serve(socket, task_id)


@get("/api/v1/tasks/{task_id:str}/events", tags=["tasks"],
     summary="Server-sent events of one task, until it ends",
     responses=documented(TaskEventMessage, errors=(404,), media_type="text/event-stream",
                          description="A stream of events (`event:` the type, `data:` this "
                                      "JSON); the first is a snapshot, the last a terminal "
                                      "event"))
async def task_events(task_id: str, request: Request[Any, Any, Any]) -> ServerSentEvent:
    state = request.app.state
    subscriber = _subscriber(request)
    snapshot = await _visible_snapshot(state, subscriber.principal, task_id)  # 404 first
    hub: EventHub = state.hub
    subscriber.task_ids.add(task_id)
    hub.add(subscriber)

    def frame(message: dict[str, Any]) -> ServerSentEventMessage:
        return ServerSentEventMessage(data=msgspec.json.encode(message).decode(),
                                      event=message["type"])

    def final(message: dict[str, Any]) -> bool:
        return message["type"] in TERMINAL_TYPES or message["payload"].get("status") in (
            "completed", "partial_success", "failed", "cancelled")

    async def events() -> AsyncGenerator[ServerSentEventMessage, None]:
        try:
            yield frame(snapshot)
            if final(snapshot):
                return
            while True:
                try:
                    message = await asyncio.wait_for(subscriber.queue.get(), SSE_KEEPALIVE_S)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keepalive")
                    continue
                yield frame(message)
                if message is REVOKED_MESSAGE:
                    return
                if final(message):
                    return
        finally:
            hub.remove(subscriber)

    return ServerSentEvent(events())


STREAM_HANDLERS = [stream, stream_task, task_events]
