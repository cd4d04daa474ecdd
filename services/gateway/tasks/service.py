"""The task use cases every API family shares: read tasks, their stages and items, and the
user commands. A command is one unit of work: its state change, the event announcing it and
the scheduler's wake-up commit together (the wake-up and event through the outbox), so a
broker away at that moment delays them and loses nothing. This is where the gateway opens
transactions on the task tables; routes never do."""

from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.db.driver import DriverConnection
from libs.logging import get_logger
from libs.messaging.publisher import Outgoing
from libs.tasks import control, creation, fairshare, limits, readers
from libs.tasks.events import task_event
from libs.tasks.kinds import KINDS
from libs.tasks.limits import TenantDefaults
from libs.tasks.model import Item, Stage, Task, Transition
from libs.tasks.unit_of_work import TaskUnitOfWork, TaskUnits
from proto.control import TaskAction, TaskChanged
from proto.events import TaskCreated, TaskPaused, TaskResumed
from proto.topology import Exchange, Queue
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, task_not_found
from services.gateway.idempotency import repository as idempotency
from services.gateway.idempotency.context import current_claim

log = get_logger(__name__)

NotFound = Callable[[str], ApiError]


def _wake(task: Task, action: TaskAction) -> Outgoing:
    return Outgoing(Exchange.CONTROL, Queue.CONTROL, TaskChanged(task_id=task.id, action=action),
                    task_id=task.id)


async def _pause(uow: TaskUnitOfWork, task: Task) -> Task:
    task = await control.pause(uow.conn, task)
    uow.send(task_event(TaskPaused, task))
    return task


async def _resume(uow: TaskUnitOfWork, task: Task) -> Task:
    task = await control.resume(uow.conn, task)
    uow.send(task_event(TaskResumed, task))
    return task


# A user command: the state change (through the transition table) and the event it announces.
_COMMANDS: dict[TaskAction, Callable[[TaskUnitOfWork, Task], Awaitable[Task]]] = {
    TaskAction.STARTED: TaskUnitOfWork.start,
    TaskAction.PAUSED: _pause,
    TaskAction.RESUMED: _resume,
}


async def _insert_once(conn: AsyncConnection, new: creation.NewTask,
                       defaults: TenantDefaults) -> tuple[Task, bool]:
    """Insert the task, unless the request's Idempotency-Key already created one: then that
    task (and False). The key's row is locked first, so a concurrent repeat waits for this
    transaction and then finds the task it created. A new task must fit the tenant's limits
    (`TenantLimitExceeded` otherwise); a repeat is answered even past them."""
    claim = current_claim.get()
    if claim is not None:
        existing = await idempotency.locked_resource(conn, claim)
        if existing is not None:
            task = await readers.get_task(conn, existing, tenant_id=new.tenant_id)
            if task is not None:
                return task, False
    await limits.check_create(conn, new.tenant_id, defaults)
    task = await creation.insert_task(conn, new)
    if claim is not None:
        await idempotency.record_resource(conn, claim, task.id)
    return task, True


class TaskService:
    def __init__(self, units: TaskUnits, defaults: TenantDefaults | None = None) -> None:
        self._units = units
        self._db: AsyncEngine = units.db
        self._defaults = defaults or TenantDefaults()

    @staticmethod
    async def load(conn: AsyncConnection, principal: Principal, task_id: str, *,
                   kind: str | None = None, not_found: NotFound = task_not_found) -> Task:
        """The task if the caller may see it (and it is of `kind`), else `not_found`."""
        task = await readers.get_task(conn, task_id, tenant_id=principal.tenant_id,
                                      user_id=principal.owner_filter)
        if task is None or (kind is not None and task.kind != kind):
            raise not_found(task_id)
        return task

    async def get(self, principal: Principal, task_id: str, *, kind: str | None = None,
                  not_found: NotFound = task_not_found) -> Task:
        async with self._db.connect() as conn:
            return await self.load(conn, principal, task_id, kind=kind, not_found=not_found)

    async def status(self, principal: Principal, task_id: str) -> tuple[Task, list[Stage]]:
        # The polling hot path: one statement on the pooled connection's driver, outside a
        # transaction (no BEGIN and ROLLBACK round trips, no SQLAlchemy result layer).
        async with DriverConnection(self._db) as driver:
            found = await readers.get_task_with_stages(
                driver, task_id, tenant_id=principal.tenant_id, user_id=principal.owner_filter)
        if found is None:
            raise task_not_found(task_id)
        return found

    async def queue_position(self, task: Task) -> int | None:
        """Its place among the tasks waiting for its kind's workers; None unless it waits."""
        if task.waiting_reason is None:
            return None
        async with self._db.connect() as conn:
            return await fairshare.queue_position(conn, task)

    async def transitions(self, principal: Principal,
                          task_id: str) -> tuple[Task, list[Transition]]:
        async with self._db.connect() as conn:
            task = await self.load(conn, principal, task_id)
            return task, await readers.get_transitions(conn, task.id)

    async def page(self, where: readers.TaskFilter, *, offset: int,
                   limit: int) -> tuple[int, list[Task]]:
        async with self._db.connect() as conn:
            return (await readers.count_tasks(conn, where),
                    await readers.list_tasks(conn, where, offset=offset, limit=limit))

    async def items(self, principal: Principal, task_id: str, *,
                    statuses: Collection[str] | None = None, offset: int = 0,
                    limit: int | None = None) -> tuple[Task, list[Item]]:
        async with self._db.connect() as conn:
            task = await self.load(conn, principal, task_id)
            return task, await readers.get_items(conn, task.id, statuses=statuses,
                                                 offset=offset, limit=limit)

    async def create(self, new: creation.NewTask) -> Task:
        async with self._units.begin() as uow:
            task, created = await _insert_once(uow.conn, new, self._defaults)
            if created:
                uow.send(task_event(TaskCreated, task), _wake(task, TaskAction.CREATED))
        if created:
            log.info("task.created", task_id=task.id, kind=task.kind, items=task.total)
        return task

    async def _command(self, action: TaskAction, principal: Principal, task_id: str,
                       kind: str | None) -> Task:
        async with self._units.begin() as uow:
            task = await _COMMANDS[action](
                uow, await self.load(uow.conn, principal, task_id, kind=kind))
            uow.send(_wake(task, action))
        return task

    async def start(self, principal: Principal, task_id: str, kind: str | None = None) -> Task:
        return await self._command(TaskAction.STARTED, principal, task_id, kind)

    async def pause(self, principal: Principal, task_id: str, kind: str | None = None) -> Task:
        return await self._command(TaskAction.PAUSED, principal, task_id, kind)

    async def resume(self, principal: Principal, task_id: str, kind: str | None = None) -> Task:
        return await self._command(TaskAction.RESUMED, principal, task_id, kind)

    async def cancel(self, principal: Principal, task_id: str, kind: str | None = None) -> Task:
        return await self.cancel_task(await self.get(principal, task_id, kind=kind))

    async def cancel_task(self, task: Task) -> Task:
        """Cancel a task the caller has already been authorised for (a kind whose tasks
        belong to a tenant-wide resource authorises by that resource)."""
        async with self._units.begin() as uow:
            task = await uow.cancel(task)
            uow.send(_wake(task, TaskAction.CANCELLED))
        log.info("task.cancelled", task_id=task.id, done=task.done)
        return task

    async def retry_failed(self, principal: Principal, task_id: str) -> tuple[Task, list[int]]:
        """A new task for the failed items only, linked to the original."""
        async with self._units.begin() as uow:
            conn = uow.conn
            original = await self.load(conn, principal, task_id)
            if not original.status.finished:
                raise ApiError(400, "TASK_NOT_FINISHED",
                               f"task {task_id} is {original.status}; retry it once it ends")
            failed = await readers.get_items(conn, original.id, statuses=("failed",),
                                             with_payload=True)
            if not failed:
                raise ApiError(400, "NO_FAILED_ITEMS", f"task {task_id} has no failed items")
            task, created = await _insert_once(conn, creation.NewTask(
                tenant_id=original.tenant_id, user_id=principal.user_id, kind=KINDS[original.kind],
                name=f"{original.name} (retry)", params=original.params,
                items=[creation.NewItem(item.payload or {}, item.group_key) for item in failed],
                concurrency=original.concurrency,
                max_attempts=original.max_attempts, continue_on_error=original.continue_on_error,
                autostart=True, exclusivity_key=original.exclusivity_key,
                parent_task_id=original.id, route=original.route,
                item_timeout_s=original.item_timeout_s, task_timeout_s=original.task_timeout_s,
            ), self._defaults)
            if created:
                uow.send(task_event(TaskCreated, task), _wake(task, TaskAction.CREATED))
        return task, [item.seq for item in failed]
