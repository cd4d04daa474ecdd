"""The WebSocket stream `/v2/stream` (seed 000's subscribe protocol), as an iterator of typed
events. The token goes in the Authorization header, never in the URL (URLs reach logs)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import msgspec
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from libs.client.errors import TransportError
from libs.client.models import StreamEvent
from libs.client.transport import Transport

_decoder = msgspec.json.Decoder(StreamEvent)


class Stream:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @property
    def url(self) -> str:
        return self._t.base_url.replace("http", "ws", 1) + "/v2/stream"

    def connect(self, open_timeout_s: float = 10.0) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self._t.token}"} if self._t.token else {}
        try:
            return connect(self.url, additional_headers=headers, open_timeout=open_timeout_s)
        except (OSError, TimeoutError, ConnectionClosed) as exc:
            raise TransportError(f"stream {self.url}: {exc}") from exc

    def task_events(self, task_id: str, *, idle_timeout_s: float | None = None,
                    items: bool = False) -> Iterator[StreamEvent]:
        """Every event of one task, starting with a snapshot of where it stands, until its
        terminal event (then the iterator ends). `idle_timeout_s`: give up after that long
        without a message (TimeoutError), for callers that fall back to polling."""
        channels = ["task_progress", "items"] if items else ["task_progress"]
        with self.connect() as socket:
            socket.send(json.dumps({"action": "subscribe", "channels": channels,
                                    "filters": {"taskId": task_id}}))
            while True:
                try:
                    raw = socket.recv(timeout=idle_timeout_s)
                except ConnectionClosed as exc:
                    raise TransportError(f"stream closed: {exc}") from exc
                event = _decoder.decode(raw)
                if event.type == "error":
                    raise TransportError(f"stream: {event.payload.code}: {event.payload.message}")
                if event.payload.task_id not in (None, task_id):
                    continue
                yield event
                if event.terminal:
                    return
