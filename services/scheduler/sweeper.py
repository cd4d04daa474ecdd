"""The periodic sweep. It makes the scheduler crash-safe from PostgreSQL alone: whatever a lost
message or a restart left undone (a start, a top-up, a finalisation, an expired lease) is
found here and done."""

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.observability import metrics
from libs.storage import Storage, task_prefix
from libs.tasks import sweep as q
from libs.tasks.unit_of_work import TaskUnits
from services.scheduler.engine import MAX_FINALIZE_ATTEMPTS, Engine

log = get_logger(__name__)


class Sweeper:
    def __init__(
        self, units: TaskUnits, engine: Engine, storage: Storage | None, *, interval_s: float,
        retention_s: int, retention_every_s: float = 60.0,
    ) -> None:
        self._units = units
        self._db: AsyncEngine = units.db
        self._engine = engine
        self._storage = storage
        self._interval_s = interval_s
        self._retention_s = retention_s
        self._retention_every_s = retention_every_s
        self._last_retention = 0.0

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep.failed")
            await asyncio.sleep(self._interval_s)

    async def sweep(self) -> None:
        await self._start_pending()
        async with self._db.connect() as conn:
            expired = await q.expired_leases(conn)
        if expired:
            log.warning("items.lease_expired", count=len(expired))
            metrics.ITEMS_LEASE_EXPIRED.inc(len(expired))
            await self._engine.apply_results(expired)
        await self._retry_lost_finalizations()
        await self._fail_overdue()
        async with self._units.begin() as uow:
            await self._engine.advance(uow, await q.needing_attention(uow.conn))
        if time.monotonic() - self._last_retention >= self._retention_every_s:
            self._last_retention = time.monotonic()
            await self._clean_expired()

    async def _start_pending(self) -> None:
        async with self._units.begin() as uow:
            started = [await uow.start(task) for task in await q.pending_autostart(uow.conn)]
            await self._engine.advance(uow, started)

    async def _retry_lost_finalizations(self) -> None:
        async with self._db.connect() as conn:
            expired = await q.expired_finalizations(conn)
        for task_id, attempt in expired:
            log.warning("task.finalize_lease_expired", task_id=task_id, attempt=attempt)
            last = attempt >= MAX_FINALIZE_ATTEMPTS
            await self._engine.end_finalize(
                task_id, attempt, state="failed" if last else None,
                error="finalization failed: its worker went silent" if last else None,
            )

    async def _fail_overdue(self) -> None:
        async with self._units.begin() as uow:
            for task in await q.overdue_tasks(uow.conn):
                await uow.fail(task, f"task timed out after {task.task_timeout_s}s")
                log.warning("task.timed_out", task_id=task.id)

    async def _clean_expired(self) -> None:
        async with self._db.connect() as conn:
            expired = await q.expired_finished(conn, self._retention_s)
        for task_id in expired:
            # Artifacts first: a task row is only forgotten once nothing of it is left behind.
            if self._storage is not None:
                await self._storage.delete_prefix(task_prefix(task_id))
            async with self._db.begin() as conn:
                await q.delete_task(conn, task_id)
            log.info("task.expired", task_id=task_id)
