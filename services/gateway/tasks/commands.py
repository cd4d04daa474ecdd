"""User commands on tasks. Each one commits to PostgreSQL (the source of truth), then publishes
the event and wakes the scheduler. If the broker is away after the commit nothing is lost: the
scheduler's sweep finds the committed state within a second."""

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from libs.tasks import store
from libs.tasks.events import finished_event, started_event, task_event
from libs.tasks.kinds import KINDS
from libs.tasks.model import Task
from proto.control import TaskAction, TaskChanged
from proto.events import TaskCreated, TaskPaused, TaskResumed
from proto.topology import Exchange, Queue
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, task_not_found
from services.gateway.idempotency import repository as idempotency
from services.gateway.idempotency.context import current_claim

log = get_logger(__name__)


def _wake(task: Task, action: TaskAction) -> Outgoing:
    return Outgoing(Exchange.CONTROL, Queue.CONTROL, TaskChanged(task_id=task.id, action=action),
                    task_id=task.id)


async def _insert_once(conn: AsyncConnection, new: store.NewTask) -> tuple[Task, bool]:
    """Insert the task, unless the request's Idempotency-Key already created one: then that
    task (and False). The key's row is locked first, so a concurrent repeat waits for this
    transaction and then finds the task it created."""
    claim = current_claim.get()
    if claim is not None:
        existing = await idempotency.locked_resource(conn, claim)
        if existing is not None:
            task = await store.get_task(conn, existing, tenant_id=new.tenant_id)
            if task is not None:
                return task, False
    task = await store.insert_task(conn, new)
    if claim is not None:
        await idempotency.record_resource(conn, claim, task.id)
    return task, True


class TaskCommands:
    def __init__(self, db: AsyncEngine, publisher: Publisher) -> None:
        self._db = db
        self._publisher = publisher

    async def _announce(self, *messages: Outgoing) -> None:
        try:
            await self._publisher.publish_many(messages)
        except Exception as exc:
            log.warning("task.announce_failed", error=repr(exc))

    async def load(self, conn: AsyncConnection, principal: Principal, task_id: str, *,
                   for_update: bool = False) -> Task:
        task = await store.get_task(conn, task_id, tenant_id=principal.tenant_id,
                                    user_id=principal.owner_filter, for_update=for_update)
        if task is None:
            raise task_not_found(task_id)
        return task

    async def create(self, new: store.NewTask) -> Task:
        async with self._db.begin() as conn:
            task, created = await _insert_once(conn, new)
        if created:
            log.info("task.created", task_id=task.id, kind=task.kind, items=task.total)
            await self._announce(task_event(TaskCreated, task), _wake(task, TaskAction.CREATED))
        return task

    async def start(self, principal: Principal, task_id: str) -> Task:
        async with self._db.begin() as conn:
            task = await store.start(conn, await self.load(conn, principal, task_id))
        await self._announce(started_event(task), _wake(task, TaskAction.STARTED))
        return task

    async def pause(self, principal: Principal, task_id: str) -> Task:
        async with self._db.begin() as conn:
            task = await store.pause(conn, await self.load(conn, principal, task_id))
        await self._announce(task_event(TaskPaused, task), _wake(task, TaskAction.PAUSED))
        return task

    async def resume(self, principal: Principal, task_id: str) -> Task:
        async with self._db.begin() as conn:
            task = await store.resume(conn, await self.load(conn, principal, task_id))
        await self._announce(task_event(TaskResumed, task), _wake(task, TaskAction.RESUMED))
        return task

    async def cancel(self, principal: Principal, task_id: str) -> Task:
        async with self._db.connect() as conn:
            task = await self.load(conn, principal, task_id)
        return await self.cancel_task(task)

    async def cancel_task(self, task: Task) -> Task:
        """Cancel a task the caller has already been authorised for (a kind whose tasks
        belong to a tenant-wide resource authorises by that resource)."""
        async with self._db.begin() as conn:
            task = await store.cancel(conn, task)
        log.info("task.cancelled", task_id=task.id, done=task.done)
        await self._announce(finished_event(task), _wake(task, TaskAction.CANCELLED))
        return task

    async def retry_failed(self, principal: Principal, task_id: str) -> tuple[Task, list[int]]:
        """A new task for the failed items only, linked to the original."""
        async with self._db.begin() as conn:
            original = await self.load(conn, principal, task_id)
            if not original.status.finished:
                raise ApiError(400, "TASK_NOT_FINISHED",
                               f"task {task_id} is {original.status}; retry it once it ends")
            failed = await store.failed_items(conn, original.id)
            if not failed:
                raise ApiError(400, "NO_FAILED_ITEMS", f"task {task_id} has no failed items")
            task, created = await _insert_once(conn, store.NewTask(
                tenant_id=original.tenant_id, user_id=principal.user_id, kind=KINDS[original.kind],
                name=f"{original.name} (retry)", params=original.params,
                items=[item for _, item in failed], concurrency=original.concurrency,
                max_attempts=original.max_attempts, continue_on_error=original.continue_on_error,
                autostart=True, exclusivity_key=original.exclusivity_key,
                parent_task_id=original.id, route=original.route,
                item_timeout_s=original.item_timeout_s, task_timeout_s=original.task_timeout_s,
            ))
        if created:
            await self._announce(task_event(TaskCreated, task), _wake(task, TaskAction.CREATED))
        return task, [seq for seq, _ in failed]
