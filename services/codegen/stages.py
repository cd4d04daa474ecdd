"""Moves a codegen task's agents (its stages) along, and notices when the task stopped."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import Permanent
from libs.tasks.stages import set_stage


class TaskStopped(Permanent):
    """The task was cancelled, failed or timed out meanwhile: the generation stops here."""


class AgentTimeline:
    def __init__(self, db: AsyncEngine, task_id: str) -> None:
        self._db = db
        self._task_id = task_id

    async def _set(self, agent: str, **values: Any) -> None:
        async with self._db.begin() as conn:
            running = await set_stage(conn, self._task_id, agent, **values)
        if not running:
            raise TaskStopped(f"task {self._task_id} is no longer running")

    async def start(self, agent: str) -> None:
        await self._set(agent, status="running", progress=0)

    async def progress(self, agent: str, progress: int) -> None:
        await self._set(agent, status="running", progress=progress)

    async def done(self, agent: str, summary: str, metadata: dict[str, Any]) -> None:
        await self._set(agent, status="completed", progress=100, summary=summary,
                        metadata=metadata)

    async def skip(self, agent: str, summary: str) -> None:
        await self._set(agent, status="skipped", progress=100, summary=summary)

    async def fail(self, agent: str, error: str, metadata: dict[str, Any] | None = None) -> None:
        await self._set(agent, status="failed", progress=100, error=error, metadata=metadata)
