"""Retention: cache entries expire on their own clock with their objects, a cache entry whose
object vanished is dropped on use, and a batch's log lines and images go with its task."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from libs.db.engine import create_engine
from libs.settings import CommonSettings, load_settings
from libs.storage import Storage, task_prefix
from libs.tasks import creation
from libs.tasks.kinds import SLIDES
from libs.tasks.unit_of_work import TaskUnits
from services.scheduler.sweeper import Sweeper
from services.slides import repository as repo
from services.slides.cache import SlideCache, cache_key
from services.slides.handler import slide_object_key
from tests.harness.tenants import new_tenant


async def test_cache_entries_expire_and_missing_objects_are_dropped(env: dict[str, str]) -> None:
    settings = load_settings(CommonSettings, "test", env)
    storage = Storage(settings)
    db = create_engine(settings.database_url, pool_size=2)
    cache = SlideCache(db, storage, ttl_s=3600)
    tenant = str(uuid.uuid4())
    old, fresh, lost = (cache_key(tenant, {"n": n}) for n in ("old", "fresh", "lost"))
    for key in (old, fresh, lost):
        await cache.store(key, tenant_id=tenant, renderer="local", data=b"png",
                          content_type="image/png", width=1, height=1)
    async with db.begin() as conn:
        await conn.execute(text("""UPDATE slide_cache SET last_used_at = now() - interval '2 hours'
            WHERE key = :key"""), {"key": old})
        objects = dict((await conn.execute(text(
            "SELECT key, object_key FROM slide_cache WHERE tenant_id = :t"), {"t": tenant})).all())

    assert await cache.sweep() >= 1
    assert not await storage.exists(objects[old])
    assert await storage.exists(objects[fresh])
    assert await cache.copy_to(old, "tmp/old.png") is None

    await storage.delete_keys([objects[lost]])  # e.g. an S3 endpoint that lost its data
    assert await cache.copy_to(lost, "tmp/lost.png") is None
    async with db.connect() as conn:
        assert await repo.touch_cache_entry(conn, lost) is None, "the dangling entry is gone"
    hit = await cache.copy_to(fresh, "tmp/fresh.png")
    assert hit is not None and await storage.get_bytes("tmp/fresh.png", 10) == b"png"
    await db.dispose()


async def test_an_expired_batch_takes_its_logs_and_images(env: dict[str, str]) -> None:
    settings = load_settings(CommonSettings, "test", env)
    storage = Storage(settings)
    db = create_engine(settings.database_url, pool_size=2)
    async with db.begin() as conn:
        tenant, user = await new_tenant(conn, "slides-retention")
        task = await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=SLIDES, name="old batch",
            items=[creation.NewItem({})], params={"session_id": "retention-session"}))
        await repo.insert_log(conn, session_id="retention-session", task_id=task.id,
                              event="slide_completed", level="info", details={}, seq=0)
        await conn.execute(text("""UPDATE tasks SET status = 'completed',
            completed_at = now() - interval '2 days' WHERE id = :id"""), {"id": task.id})
    image = slide_object_key(task.id, 0)
    assert image.startswith(task_prefix(task.id))
    await storage.put_bytes(image, b"png", "image/png")

    sweeper = Sweeper(TaskUnits(db, lambda: None), engine=None, storage=storage, interval_s=1,  # type: ignore[arg-type]
                      retention_s=24 * 3600)
    await sweeper._clean_expired()

    async with db.connect() as conn:
        left = await conn.scalar(text(
            "SELECT count(*) FROM slide_logs WHERE session_id = 'retention-session'"))
    await db.dispose()
    assert left == 0
    assert not await storage.exists(image)
