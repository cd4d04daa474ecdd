"""Work a scheduler committed but never published (it died between its commit and its publish)
is published again by the sweep once its queue shows it is not waiting there, instead of
waiting out the queue lease (4 x item timeout + 60 s)."""

from __future__ import annotations

import time

from sqlalchemy import text

from libs.db.engine import create_engine
from libs.tasks import control, dispatch
from libs.tasks.model import TASK_COLUMNS, task_from_row
from tests.e2e.conftest import Api, Stack


async def test_items_dispatched_but_never_published_are_sent_again(stack: Stack,
                                                                   alice: Api) -> None:
    created = await alice.create_echo([{"value": i} for i in range(3)], autoStart=False)
    task_id = created["taskId"]
    db = create_engine(stack.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    try:
        async with db.begin() as conn:  # what a scheduler commits before it publishes
            row = (await conn.execute(text(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = :id"),
                                      {"id": task_id})).one()
            task = await control.start(conn, task_from_row(row))
            lost = await dispatch.dispatch(conn, task, 3)
        assert [item.attempt for item in lost] == [1, 1, 1]
        started = time.monotonic()
        final = await alice.wait_finished(task_id, timeout_s=30)
        took = time.monotonic() - started
        assert final["status"] == "completed" and final["completedItems"] == 3
        assert took < 20, f"recovered after {took:.1f}s"
        async with db.connect() as conn:  # sent again as they were: no attempt was spent
            attempts = (await conn.execute(text(
                "SELECT attempt FROM task_items WHERE task_id = :id ORDER BY seq"),
                {"id": task_id})).scalars().all()
        assert attempts == [1, 1, 1]
    finally:
        await db.dispose()
