"""`/v2/stream` (the document-batch API's WebSocket, for tasks of every kind) and a
server-sent event stream per task; the subscribe protocol is in `service.py`."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from litestar import Request, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.response import ServerSentEvent, ServerSentEventMessage

from services.gateway.auth.middleware import BEARER_SUBPROTOCOL, subprotocols
from services.gateway.auth.repository import Principal, token_hash
from services.gateway.openapi import documented
from services.gateway.stream.hub import REVOKED_MESSAGE, Subscriber
from services.gateway.stream.presenters import TERMINAL_TYPES
from services.gateway.stream.schemas import TaskEventMessage
from services.gateway.stream.service import StreamService

SSE_KEEPALIVE_S = 15.0


REVOKED_CLOSE_CODE = 4401  # application range (4000-4999): 401-like, do not reconnect with it


def _subscriber(connection: Request[Any, Any, Any] | WebSocket[Any, Any, Any]) -> Subscriber:
    principal = connection.user
    assert isinstance(principal, Principal)
    return Subscriber(principal, token_hash(str(connection.auth)))


async def _serve(socket: WebSocket[Any, Any, Any], stream_service: StreamService,
                 task_id: str | None) -> None:
    hub = stream_service.hub
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
                reply = await stream_service.apply(subscriber, msgspec.json.encode(
                    {"action": "subscribe", "filters": {"taskId": task_id}}))
                if reply:
                    subscriber.offer(reply)
            while True:
                reply = await stream_service.apply(subscriber,
                                                   await socket.receive_data(mode="text"))
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
async def stream(socket: WebSocket[Any, Any, Any], stream_service: StreamService) -> None:
    await _serve(socket, stream_service, None)


@websocket("/v2/stream/{task_id:str}")
async def stream_task(socket: WebSocket[Any, Any, Any], task_id: str,
                      stream_service: StreamService) -> None:
    await _serve(socket, stream_service, task_id)


@get("/api/v1/tasks/{task_id:str}/events", tags=["tasks"],
     summary="Server-sent events of one task, until it ends",
     responses=documented(TaskEventMessage, errors=(404,), media_type="text/event-stream",
                          description="A stream of events (`event:` the type, `data:` this "
                                      "JSON); the first is a snapshot, the last a terminal "
                                      "event"))
async def task_events(task_id: str, request: Request[Any, Any, Any],
                      stream_service: StreamService) -> ServerSentEvent:
    subscriber = _subscriber(request)
    snapshot = await stream_service.snapshot(subscriber.principal, task_id)  # 404 first
    hub = stream_service.hub
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
                    # A comment line only: with data (even empty) it would be an event.
                    yield ServerSentEventMessage(comment="keepalive", data=None)
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
