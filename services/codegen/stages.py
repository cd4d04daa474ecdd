"""Moves a codegen task's agents (its stages) along, and notices when the task stopped. An agent
ends and the next starts in one transaction (with whatever else the end stores), so a
generation costs five round trips of timeline, not ten."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.errors import Permanent
from libs.tasks.stages import set_stage

Also = Callable[[AsyncConnection], Awaitable[object]]


class TaskStopped(Permanent):
    """The task was cancelled, failed or timed out meanwhile: the generation stops here."""


class AgentTimeline:
    def __init__(self, db: AsyncEngine, task_id: str) -> None:
        self._db = db
        self._task_id = task_id

    async def _set(self, changes: list[tuple[str, dict[str, Any]]],
                   also: Also | None = None) -> None:
        async with self._db.begin() as conn:
            for agent, values in changes:
                if not await set_stage(conn, self._task_id, agent, **values):
                    await conn.rollback()
                    raise TaskStopped(f"task {self._task_id} is no longer running")
            if also is not None:
                await also(conn)

    @staticmethod
    def _then(then: str | None) -> list[tuple[str, dict[str, Any]]]:
        return [(then, {"status": "running", "progress": 0})] if then else []

    async def start(self, agent: str) -> None:
        await self._set(self._then(agent))

    async def done(self, agent: str, summary: str, metadata: dict[str, Any], *,
                   then: str | None = None, also: Also | None = None) -> None:
        """`agent` completed (after `also` stored what it made); `then` starts."""
        await self._set([(agent, {"status": "completed", "progress": 100, "summary": summary,
                                  "metadata": metadata}), *self._then(then)], also)

    async def skip(self, agent: str, summary: str, *, then: str | None = None) -> None:
        await self._set([(agent, {"status": "skipped", "progress": 100, "summary": summary}),
                         *self._then(then)])

    async def fail(self, agent: str, error: str, metadata: dict[str, Any] | None = None) -> None:
        await self._set([(agent, {"status": "failed", "progress": 100, "error": error,
                                  "metadata": metadata})])
