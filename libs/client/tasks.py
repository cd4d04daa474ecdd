"""Tasks of every kind: `/api/v1/tasks` (seed 002's conventions)."""

from __future__ import annotations

import re
from typing import Any

from libs.client.errors import ConveyorError
from libs.client.models import ItemDetail, ItemPage, RetryCreated, Task, TaskPage
from libs.client.transport import Transport

ACTIONS = ("start", "pause", "resume", "cancel")
FULL_ID_LENGTH = 36  # a UUID as text
_ID_PREFIX = re.compile(r"[0-9a-fA-F-]{1,35}")
MATCHES_SHOWN = 5


class AmbiguousId(ConveyorError):
    """A short id that names several tasks."""

    def __init__(self, given: str, matching: list[str]) -> None:
        self.given, self.matching = given, matching
        shown = ", ".join(matching[:MATCHES_SHOWN])
        more = " and more" if len(matching) > MATCHES_SHOWN else ""
        super().__init__(f"{given} matches several tasks: {shown}{more}; give more of the id")


class Tasks:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, kind: str, items: list[dict[str, Any]], **options: Any) -> Task:
        """A task of a generic kind (e.g. `echo`); options in the API's camelCase
        (`concurrency`, `maxAttempts`, `autoStart`, `continueOnError`, `name`, ...)."""
        body = {"kind": kind, "items": items, **options}
        return self._t.call_data("POST", "/api/v1/tasks", Task, json=body)

    def list(self, *, page: int = 1, page_size: int = 10, status: str | None = None,
             kind: str | None = None, search: str | None = None) -> TaskPage:
        """`search`: tasks whose id starts with it or whose name holds it."""
        params: dict[str, Any] = {"pageNum": page, "pageSize": page_size}
        params.update({k: v for k, v in {"status": status, "kind": kind, "q": search}.items()
                       if v})
        return self._t.call_data("GET", "/api/v1/tasks", TaskPage, params=params)

    def resolve(self, given: str) -> str:
        """The full id of the one task whose id starts with `given`. A full id, or one no task
        starts with, is answered as given (the API then says what it knows of it); raises
        `AmbiguousId` when several match."""
        if len(given) >= FULL_ID_LENGTH or not _ID_PREFIX.fullmatch(given):
            return given
        found = self.list(page_size=MATCHES_SHOWN + 1, search=given.lower()).tasks
        matching = [t.task_id for t in found if t.task_id.startswith(given.lower())]
        if len(matching) > 1:
            raise AmbiguousId(given, matching)
        return matching[0] if matching else given

    def get(self, task_id: str) -> Task:
        return self._t.call_data("GET", f"/api/v1/tasks/{task_id}", Task)

    def items(self, task_id: str, *, page: int = 1, page_size: int = 100,
              status: str | None = None) -> ItemPage:
        params: dict[str, Any] = {"pageNum": page, "pageSize": page_size}
        if status:
            params["status"] = status
        return self._t.call_data("GET", f"/api/v1/tasks/{task_id}/items", ItemPage,
                                 params=params)

    def item(self, task_id: str, seq: int) -> ItemDetail:
        """One item with its input, result and error."""
        return self._t.call_data("GET", f"/api/v1/tasks/{task_id}/items/{seq}", ItemDetail)

    def command(self, task_id: str, action: str) -> Task:
        """start, pause, resume or cancel; the answer is the task after the command."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}")
        return self._t.call_data("POST", f"/api/v1/tasks/{task_id}/{action}", Task)

    def start(self, task_id: str) -> Task:
        return self.command(task_id, "start")

    def pause(self, task_id: str) -> Task:
        return self.command(task_id, "pause")

    def resume(self, task_id: str) -> Task:
        return self.command(task_id, "resume")

    def cancel(self, task_id: str) -> Task:
        return self.command(task_id, "cancel")

    def retry_failed(self, task_id: str) -> RetryCreated:
        return self._t.call_data("POST", f"/api/v1/tasks/{task_id}/retry-failed", RetryCreated)
