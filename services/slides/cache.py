"""The render cache: a slide whose renderer, final prompt, text and size match an earlier one of
the same tenant reuses that image (a server-side copy) instead of rendering it again.

Cached images live under their own prefix with their own expiry, not inside any task: a task's
retention deletes the task's copies, never the cache's, so an entry can never point at an image
that retention removed. If a cache object vanishes anyway (an S3 endpoint restarted), the
entry is dropped on its next use and the slide is rendered. Entries are per tenant so no
tenant can learn, from a fast answer, what another one rendered."""

import asyncio
import hashlib
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.storage import Storage
from services.slides import repository as repo

log = get_logger(__name__)

PREFIX = "slides-cache/"


def cache_key(tenant_id: str, identity: dict[str, Any]) -> str:
    canonical = json.dumps({"tenant": tenant_id, **identity}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SlideCache:
    def __init__(self, db: AsyncEngine, storage: Storage, *, ttl_s: int) -> None:
        self._db = db
        self._storage = storage
        self._ttl_s = ttl_s

    async def copy_to(self, key: str, target_key: str) -> repo.CacheEntry | None:
        """Copy the cached image for `key` to `target_key`; None on a miss."""
        async with self._db.begin() as conn:
            entry = await repo.touch_cache_entry(conn, key)
        if entry is None:
            return None
        if await self._storage.copy(entry.object_key, target_key):
            return entry
        log.warning("slides.cache.object_missing", key=key, object_key=entry.object_key)
        async with self._db.begin() as conn:
            await repo.delete_cache_entry(conn, key)
        return None

    async def store(self, key: str, *, tenant_id: str, renderer: str, data: bytes,
                    content_type: str, width: int, height: int) -> None:
        object_key = f"{PREFIX}{tenant_id}/{key}.png"
        await self._storage.put_bytes(object_key, data, content_type)
        async with self._db.begin() as conn:
            await repo.upsert_cache_entry(
                conn, key=key, tenant_id=tenant_id, object_key=object_key, renderer=renderer,
                content_type=content_type, size=len(data), width=width, height=height)

    async def sweep(self) -> int:
        """Remove entries unused for the TTL, objects first; returns how many went."""
        async with self._db.begin() as conn:
            expired = await repo.expired_cache_entries(conn, self._ttl_s)
            if expired:
                await self._storage.delete_keys([object_key for _, object_key in expired])
                await repo.delete_cache_entries(conn, [key for key, _ in expired])
        if expired:
            log.info("slides.cache.expired", count=len(expired))
        return len(expired)

    async def sweep_forever(self, interval_s: float) -> None:
        while True:
            try:
                while await self.sweep():
                    pass
            except Exception:
                log.exception("slides.cache.sweep_failed")
            await asyncio.sleep(interval_s)
