"""Wake-ups from the gateway: the command is already committed, act on it now."""

from aio_pika.abc import AbstractIncomingMessage

from libs.tasks import settlement
from libs.tasks.model import TaskStatus
from libs.tasks.unit_of_work import TaskUnits
from proto.control import TaskAction, TaskChanged
from services.scheduler.engine import Engine


class ControlHandler:
    def __init__(self, units: TaskUnits, engine: Engine) -> None:
        self._units = units
        self._engine = engine

    async def __call__(self, command: TaskChanged, _: AbstractIncomingMessage) -> None:
        if command.action not in (TaskAction.CREATED, TaskAction.STARTED, TaskAction.RESUMED):
            return  # pause and cancel need nothing more: claims and settles see the new status
        async with self._units.begin() as uow:
            task = (await settlement.lock_tasks(uow.conn, [command.task_id])).get(command.task_id)
            if task is None:
                return
            if task.status == TaskStatus.PENDING and task.autostart:
                task = await uow.start(task)
            await self._engine.advance(uow, [task])
