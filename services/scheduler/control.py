"""Wake-ups from the gateway: the command is already committed, act on it now."""

from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.tasks import control, settlement
from libs.tasks.events import started_event
from libs.tasks.model import TaskStatus
from proto.control import TaskAction, TaskChanged
from services.scheduler.engine import Engine


class ControlHandler:
    def __init__(self, db: AsyncEngine, engine: Engine) -> None:
        self._db = db
        self._engine = engine

    async def __call__(self, command: TaskChanged, _: AbstractIncomingMessage) -> None:
        if command.action not in (TaskAction.CREATED, TaskAction.STARTED, TaskAction.RESUMED):
            return  # pause and cancel need nothing more: claims and settles see the new status
        async with self._db.begin() as conn:
            task = (await settlement.lock_tasks(conn, [command.task_id])).get(command.task_id)
            if task is None:
                return
            outgoing = []
            if task.status == TaskStatus.PENDING and task.autostart:
                task = await control.start(conn, task)
                outgoing.append(started_event(task))
            outgoing += await self._engine.advance(conn, [task])
        await self._engine.publish(outgoing)
