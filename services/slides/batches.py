"""A batch's first and last session log lines (`batch_generate_start`, `batch_generate_complete`
with the seed's summary fields), written from the task events so they exist whether or not a
client waited for the batch. Written once per batch however often an event is delivered."""

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.messaging.topology import declare_event_queue
from libs.tasks import readers
from libs.tasks.kinds import SLIDES
from proto.events import TaskCancelled, TaskCompleted, TaskCreated, TaskEvent, TaskFailed
from proto.topology import Queue, event_binding
from services.slides.journal import SlideJournal

BINDINGS = [event_binding(event, SLIDES.name)
            for event in (TaskCreated, TaskCompleted, TaskFailed, TaskCancelled)]


class BatchJournal:
    def __init__(self, db: AsyncEngine, journal: SlideJournal) -> None:
        self._db = db
        self._journal = journal

    @staticmethod
    async def declare(channel: AbstractChannel) -> AbstractQueue:
        return await declare_event_queue(channel, Queue.SLIDES_BATCH_EVENTS, BINDINGS)

    async def on_event(self, event: TaskEvent, _: AbstractIncomingMessage) -> None:
        if event.kind != SLIDES.name:
            return
        async with self._db.connect() as conn:
            batch = await readers.find_task(conn, event.task_id, kind=SLIDES.name)
        if batch is None or "session_id" not in batch.params:
            return  # expired meanwhile: nothing left to log against
        session_id = str(batch.params["session_id"])
        if isinstance(event, TaskCreated):
            await self._journal.write(
                session_id=session_id, task_id=batch.id, event="batch_generate_start",
                details={"total_slides": batch.total, "max_workers": batch.concurrency,
                         "aspect_ratio": batch.params.get("aspect_ratio"),
                         "renderer": batch.params.get("renderer"),
                         "style_prompt": batch.params.get("style_prompt", "")})
        elif isinstance(event, TaskCompleted | TaskFailed | TaskCancelled):
            total_time = ((batch.completed_at - batch.created_at).total_seconds()
                          if batch.completed_at else None)
            await self._journal.write(
                session_id=session_id, task_id=batch.id, event="batch_generate_complete",
                level="info" if batch.failed == 0 else "warning",
                summary={"status": batch.status.value, "total_slides": batch.total,
                         "successful": batch.done, "failed": batch.failed,
                         "cancelled": batch.cancelled,
                         "success_rate": round(batch.done / batch.total, 4) if batch.total else 0,
                         "total_time": round(total_time, 3) if total_time is not None else None})
