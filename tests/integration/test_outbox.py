"""The outbox: a unit of work writes its messages in its own commit (none if it rolls back),
and a relay publishes them in order per task, deletes what was confirmed, keeps what failed,
and never publishes one task's messages while another relay holds them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.engine import create_engine
from libs.messaging.publisher import Envelope, Outgoing
from libs.tasks import outbox
from libs.tasks.relay import OutboxRelay
from libs.tasks.unit_of_work import TaskUnits
from proto.control import TaskAction, TaskChanged
from proto.topology import Exchange, Queue
from tests.harness import infra


class FakePublisher:
    """Records what it is asked to publish; fails the task ids it is told to."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []
        self.failing: set[str] = set()
        self.arrived = asyncio.Event()

    async def publish_envelope(self, envelope: Envelope) -> None:
        if envelope.task_id in self.failing:
            raise ConnectionError("broker away")
        self.sent.append(envelope)
        self.arrived.set()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(run_id: str) -> AsyncIterator[AsyncEngine]:
    """A database of this module's own: no running relay of another test takes its rows."""
    name = f"conveyor_test_{run_id}_outbox"
    url = await infra.create_database(name)
    engine = create_engine(url, pool_size=3)
    try:
        await infra.migrate(url)
        yield engine
    finally:
        await engine.dispose()
        await infra.drop_database(name)


def _wake(task_id: str, action: TaskAction) -> Outgoing:
    return Outgoing(Exchange.CONTROL, Queue.CONTROL, TaskChanged(task_id=task_id, action=action),
                    task_id=task_id)


def _relay(db: AsyncEngine, publisher: FakePublisher) -> OutboxRelay:
    return OutboxRelay(db, publisher, retry_after_s=0)  # type: ignore[arg-type]


async def test_commit_writes_and_kicks_rollback_writes_nothing(db: AsyncEngine) -> None:
    kicks: list[int] = []
    units = TaskUnits(db, lambda: kicks.append(1))
    task_id = str(uuid.uuid4())
    with pytest.raises(RuntimeError):
        async with units.begin() as uow:
            uow.send(_wake(task_id, TaskAction.CREATED))
            raise RuntimeError("the transaction fails")
    assert kicks == []
    async with units.begin() as uow:
        uow.send(_wake(task_id, TaskAction.CREATED), _wake(task_id, TaskAction.STARTED))
    assert kicks == [1]
    publisher = FakePublisher()
    assert await _relay(db, publisher).relay_once() == 2
    assert [e.task_id for e in publisher.sent] == [task_id, task_id]
    assert [e.body for e in publisher.sent] == [
        Envelope.of(_wake(task_id, action)).body
        for action in (TaskAction.CREATED, TaskAction.STARTED)]
    assert await _relay(db, publisher).relay_once() == 0  # deleted once confirmed


async def test_a_failed_publish_stays_and_is_retried(db: AsyncEngine) -> None:
    units = TaskUnits(db, lambda: None)
    stuck, fine = str(uuid.uuid4()), str(uuid.uuid4())
    async with units.begin() as uow:
        uow.send(_wake(stuck, TaskAction.CREATED), _wake(fine, TaskAction.CREATED))
    publisher = FakePublisher()
    publisher.failing.add(stuck)
    assert await _relay(db, publisher).relay_once() == 2
    assert [e.task_id for e in publisher.sent] == [fine]
    publisher.failing.clear()
    assert await _relay(db, publisher).relay_once() == 1
    assert [e.task_id for e in publisher.sent] == [fine, stuck]


async def test_a_task_held_by_one_relay_is_skipped_by_another(db: AsyncEngine) -> None:
    units = TaskUnits(db, lambda: None)
    held, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with units.begin() as uow:
        uow.send(_wake(held, TaskAction.CREATED))
    async with db.begin() as first:
        taken = await outbox.take(first, 100)
        assert [p.envelope.task_id for p in taken] == [held]
        async with units.begin() as uow:  # written while the first relay holds `held`
            uow.send(_wake(held, TaskAction.STARTED), _wake(other, TaskAction.CREATED))
        async with db.begin() as second:
            skipped = await outbox.take(second, 100)
            assert [p.envelope.task_id for p in skipped] == [other]
            await outbox.settle(second, [p.id for p in skipped], [])
        await outbox.settle(first, [p.id for p in taken], [])
    async with db.begin() as later:  # the rest of `held`, after what the first relay took
        rest = await outbox.take(later, 100)
        assert [(p.envelope.task_id, p.envelope.message_type) for p in rest] == [
            (held, "TaskChanged")]
        await outbox.settle(later, [p.id for p in rest], [])


async def test_the_running_relay_publishes_a_commit_at_once(db: AsyncEngine) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher, poll_s=60)  # type: ignore[arg-type]
    units = TaskUnits(db, relay.kick)
    await relay.start()
    try:
        task_id = str(uuid.uuid4())
        async with units.begin() as uow:
            uow.send(_wake(task_id, TaskAction.CREATED))
        # The poll is a minute away: the kick did it.
        await asyncio.wait_for(publisher.arrived.wait(), 5)
    finally:
        await relay.drain()
    assert [e.task_id for e in publisher.sent] == [task_id]


async def test_a_message_refused_again_and_again_is_dropped_at_last(db: AsyncEngine) -> None:
    units = TaskUnits(db, lambda: None)
    async with units.begin() as uow:
        uow.send(_wake(str(uuid.uuid4()), TaskAction.CREATED))
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with db.begin() as conn:
            (row,) = await outbox.take(conn, 100)
            assert row.attempts == attempt - 1
            dropped = await outbox.settle(conn, [], [row])
        assert [p.id for p in dropped] == ([row.id] if attempt == outbox.MAX_ATTEMPTS else [])
    async with db.begin() as conn:
        assert await outbox.take(conn, 100) == []
