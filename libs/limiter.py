"""A concurrency limit shared by every instance of a service, so a provider's rate limit holds
however many instances run: N slots, each a PostgreSQL session-level advisory lock.

Why advisory locks rather than a lease table: a lock belongs to its database session, so an
instance that dies mid-request frees its slot the moment its connection drops — no lease to
expire, no sweeper, no slot leaked by a crash.

The limit also adapts (the seed's "smart scheduling"): a 429 halves the number of slots this
instance tries, successes win them back one at a time (AIMD). Every instance tries the lowest
slots first, so the cluster never has more requests in flight than the largest ceiling of any
instance, and never more than the configured limit."""

import asyncio
import contextlib
import random
import zlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.logging import get_logger

log = get_logger(__name__)


class SharedLimiter:
    def __init__(self, db: AsyncEngine, name: str, limit: int, *, poll_s: float = 0.05) -> None:
        self._db = db
        self._namespace = zlib.crc32(name.encode()) & 0x7FFFFFFF  # advisory key, first half
        self.limit = max(1, limit)
        self._ceiling = float(self.limit)
        self._poll_s = poll_s

    @property
    def ceiling(self) -> int:
        return max(1, int(self._ceiling))

    def throttled(self) -> None:
        """The provider said 429: try half as many slots."""
        before = self.ceiling
        self._ceiling = max(1.0, self._ceiling / 2)
        if self.ceiling != before:
            log.info("limiter.decreased", ceiling=self.ceiling, limit=self.limit)

    def succeeded(self) -> None:
        """One more slot after `ceiling` successes in a row (additive increase)."""
        self._ceiling = min(float(self.limit), self._ceiling + 1 / self._ceiling)

    async def _try_slots(self, conn: AsyncConnection) -> int | None:
        for slot in range(self.ceiling):
            locked = await conn.scalar(text("SELECT pg_try_advisory_lock(:ns, :slot)"),
                                       {"ns": self._namespace, "slot": slot})
            if locked:
                return slot
        return None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one slot for the duration of the block; waits (polling) until one is free."""
        while True:
            conn = await self._db.connect()
            # Autocommit: the lock lives in the session, so no transaction stays open while
            # the HTTP request runs.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                slot = await self._try_slots(conn)
            except BaseException:
                await conn.close()
                raise
            if slot is not None:
                break
            await conn.close()
            await asyncio.sleep(self._poll_s * (0.5 + random.random()))
        try:
            yield slot
        finally:
            await self._release(conn, slot)

    async def _release(self, conn: AsyncConnection, slot: int) -> None:
        try:
            await asyncio.shield(conn.scalar(text("SELECT pg_advisory_unlock(:ns, :slot)"),
                                             {"ns": self._namespace, "slot": slot}))
        except BaseException:
            # Unsure whether the lock went: drop the session rather than pool it, which
            # releases every lock it holds.
            await conn.invalidate()
            raise
        finally:
            await conn.close()
