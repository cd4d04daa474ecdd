"""One transaction on the task tables, and everything it decided to say.

A `TaskUnitOfWork` owns the transaction: state changes go through it (and so through the table
of transitions), and the messages they cause (events, work, wake-ups) are collected and
written to the outbox in the same commit, so no committed change can lose its message. Metrics
are counted after the commit, once, whoever made the change: a task's end counts the same
whether the scheduler finished it or a user cancelled it.

    async with units.begin() as uow:
        task = await uow.cancel(task)
"""

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.messaging.publisher import Envelope, Outgoing
from libs.observability import metrics
from libs.tasks import control, outbox
from libs.tasks.events import finished_event, started_event
from libs.tasks.model import Task, TaskStatus


class TaskUnitOfWork:
    def __init__(self, db: AsyncEngine, on_commit: Callable[[], None]) -> None:
        self._db = db
        self._on_commit = on_commit
        self._context = db.begin()
        self._messages: list[Envelope] = []
        self._after_commit: list[Callable[[], None]] = []
        self.conn: AsyncConnection

    async def __aenter__(self) -> Self:
        self.conn = await self._context.__aenter__()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if kind is None and self._messages:
            try:
                await outbox.write(self.conn, self._messages)
            except BaseException as failure:
                await self._context.__aexit__(type(failure), failure, failure.__traceback__)
                raise
        await self._context.__aexit__(kind, error, trace)
        if kind is None:
            if self._messages:
                self._on_commit()
            for count in self._after_commit:
                count()

    def send(self, *messages: Outgoing) -> None:
        """Publish these once (and only if) the transaction commits, in this order."""
        self._messages.extend(Envelope.of(out) for out in messages)

    def after_commit(self, count: Callable[[], None]) -> None:
        """A metric moved by what this transaction changed."""
        self._after_commit.append(count)

    async def start(self, task: Task) -> Task:
        task = await control.start(self.conn, task)
        self.send(started_event(task))
        return task

    async def cancel(self, task: Task) -> Task:
        return self._finished(await control.cancel(self.conn, task))

    async def fail(self, task: Task, error: str) -> Task:
        return self._finished(await control.fail(self.conn, task, error))

    async def finish(self, task: Task, status: TaskStatus, error: str | None = None) -> Task:
        return self._finished(await control.finish(self.conn, task, status, error))

    def _finished(self, task: Task) -> Task:
        """A task's end, whatever ended it: its event, and the count of finished tasks."""
        self.send(finished_event(task))
        kind, status = task.kind, task.status.value
        self.after_commit(lambda: metrics.TASKS_FINISHED.labels(kind, status).inc())
        return task


class TaskUnits:
    """A process's factory of units of work, wired to its outbox relay."""

    def __init__(self, db: AsyncEngine, on_commit: Callable[[], None]) -> None:
        self.db = db
        self._on_commit = on_commit

    def begin(self) -> TaskUnitOfWork:
        return TaskUnitOfWork(self.db, self._on_commit)
