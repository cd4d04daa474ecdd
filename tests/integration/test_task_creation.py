"""Inserting tasks: without an exclusivity key in one statement (no savepoint); with one, a
second unfinished task on the same key is refused naming the holder, and the caller's
transaction goes on."""

from __future__ import annotations

import pytest

from libs.db.engine import create_engine
from libs.tasks import creation, readers
from libs.tasks.kinds import ECHO
from tests.harness.tenants import new_tenant


async def test_exclusivity_conflict_names_the_holder_and_the_transaction_goes_on(
        database_url: str) -> None:
    db = create_engine(database_url, pool_size=1)
    try:
        async with db.begin() as conn:
            tenant, user = await new_tenant(conn, "exclusive")

            def new(key: str | None) -> creation.NewTask:
                return creation.NewTask(tenant_id=tenant, user_id=user, kind=ECHO, name="x",
                                        items=[creation.NewItem({"value": 1})],
                                        exclusivity_key=key)

            plain = await creation.insert_task(conn, new(None))
            holder = await creation.insert_task(conn, new("kb:1"))
            with pytest.raises(creation.ExclusivityConflict) as refused:
                await creation.insert_task(conn, new("kb:1"))
            assert refused.value.holder_task_id == holder.id
            other = await creation.insert_task(conn, new("kb:2"))  # the transaction goes on
        async with db.connect() as conn:
            for task in (plain, holder, other):
                assert await readers.get_task(conn, task.id, tenant_id=tenant) == task
    finally:
        await db.dispose()
