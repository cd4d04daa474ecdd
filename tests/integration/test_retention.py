"""Retention: finished tasks past the retention period go, with their artifacts; others stay."""

from __future__ import annotations

from sqlalchemy import text

from libs.db.engine import create_engine
from libs.settings import CommonSettings, load_settings
from libs.storage import Storage, task_prefix
from libs.tasks import creation
from libs.tasks.kinds import ECHO
from libs.tasks.unit_of_work import TaskUnits
from services.scheduler.sweeper import Sweeper
from tests.harness.tenants import new_tenant


async def test_expired_tasks_and_their_artifacts_are_removed(env: dict[str, str]) -> None:
    settings = load_settings(CommonSettings, "test", env)
    storage = Storage(settings)
    db = create_engine(settings.database_url, pool_size=2)
    async with db.begin() as conn:
        tenant, user = await new_tenant(conn, "retention")
        tasks = [await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=ECHO, name=name,
            items=[creation.NewItem({})])) for name in ("old", "recent", "running")]
        await conn.execute(text("""UPDATE tasks SET status = 'completed',
            completed_at = now() - interval '2 days' WHERE id = :id"""), {"id": tasks[0].id})
        await conn.execute(text("""UPDATE tasks SET status = 'completed',
            completed_at = now() - interval '1 hour' WHERE id = :id"""), {"id": tasks[1].id})
    for task in tasks:
        await storage.put_bytes(task_prefix(task.id) + "result.bin", b"x", "application/zip")

    sweeper = Sweeper(TaskUnits(db, lambda: None), engine=None, storage=storage, interval_s=1,  # type: ignore[arg-type]
                      retention_s=24 * 3600)
    await sweeper._clean_expired()

    async with db.connect() as conn:
        left = set((await conn.execute(text(
            "SELECT name FROM tasks WHERE tenant_id = :t"), {"t": tenant})).scalars())
    await db.dispose()
    assert left == {"recent", "running"}
    assert not await storage.exists(task_prefix(tasks[0].id) + "result.bin")
    assert await storage.exists(task_prefix(tasks[1].id) + "result.bin")
