"""A batch's first and last session log lines (`batch_generate_start`, `batch_generate_complete`
with the seed's summary fields), written from the task events so they exist whether or not a
client waited for the batch. Written once per batch however often an event is delivered."""

import msgspec
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.messaging.topology import declare_event_queue
from libs.tasks import readers
from libs.tasks.kinds import SLIDES
from proto.events import TaskCancelled, TaskCompleted, TaskCreated, TaskEvent, TaskFailed
from proto.slides import SlideBatchParams
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
        if batch is None:
            return  # expired meanwhile: nothing left to log against
        try:
            options = msgspec.convert(batch.params, SlideBatchParams)
        except msgspec.ValidationError:
            return  # not a batch of the slides API: no session to log against
        session_id = options.session_id
        if isinstance(event, TaskCreated):
            await self._journal.write(
                session_id=session_id, task_id=batch.id, event="batch_generate_start",
                details={"total_slides": batch.total, "max_workers": batch.concurrency,
                         "aspect_ratio": options.aspect_ratio.value,
                         "renderer": options.renderer.value if options.renderer else None,
                         "style_prompt": options.style_prompt})
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
