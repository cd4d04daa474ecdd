"""A small typed client of the Conveyor API, shared by the `conveyor` CLI and the console's
tests:

    from libs.client import Client
    with Client("http://localhost:8000", token) as api:
        task = api.tasks.create("echo", [{"value": 1}])
        for event in api.stream.task_events(task.task_id):
            print(event.type, event.payload.progress)

Responses are msgspec structs (libs.client.models); non-2xx answers raise `ApiError`
subclasses that carry the API's error envelope (libs.client.errors)."""

from __future__ import annotations

from types import TracebackType

import httpx

from libs.client.codegen import Codegen
from libs.client.documents import Documents
from libs.client.errors import (
    ApiError,
    Conflict,
    ConveyorError,
    Forbidden,
    InvalidRequest,
    NotFound,
    TransportError,
    Unauthorized,
    Unavailable,
)
from libs.client.kb import KnowledgeBases
from libs.client.models import FINISHED, StreamEvent, Task
from libs.client.servers import Batches, Files, Servers
from libs.client.slides import Slides
from libs.client.stream import Stream
from libs.client.tasks import Tasks
from libs.client.transport import Transport

__all__ = ["FINISHED", "ApiError", "Client", "Conflict", "ConveyorError", "Forbidden",
           "InvalidRequest", "NotFound", "StreamEvent", "Task", "TransportError",
           "Unauthorized", "Unavailable"]


class Client:
    """One authenticated connection to a gateway; its areas are attributes."""

    def __init__(self, base_url: str, token: str | None, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.transport = Transport(base_url, token, timeout_s=timeout_s, transport=transport)
        self.tasks = Tasks(self.transport)
        self.documents = Documents(self.transport)
        self.slides = Slides(self.transport)
        self.kb = KnowledgeBases(self.transport)
        self.servers = Servers(self.transport)
        self.batch = Batches(self.transport)
        self.files = Files(self.transport)
        self.stream = Stream(self.transport)
        self.codegen = Codegen(self.transport)

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
