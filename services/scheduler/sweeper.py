"""The periodic sweep. It makes the scheduler crash-safe from PostgreSQL alone: whatever a lost
message or a restart left undone (a start, a top-up, a finalisation, an expired lease) is
found here and done."""

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.observability import metrics
from libs.storage import Storage, task_prefix
from libs.tasks import control, dispatch
from libs.tasks import sweep as q
from libs.tasks.events import finished_event, started_event
from services.scheduler.engine import MAX_FINALIZE_ATTEMPTS, Engine

log = get_logger(__name__)


class Sweeper:
    def __init__(
        self, db: AsyncEngine, engine: Engine, storage: Storage | None, *, interval_s: float,
        retention_s: int, retention_every_s: float = 60.0, unclaimed_after_s: float = 5.0,
    ) -> None:
        self._db = db
        self._engine = engine
        self._storage = storage
        self._interval_s = interval_s
        self._retention_s = retention_s
        self._retention_every_s = retention_every_s
        self._last_retention = 0.0
        self._unclaimed_after_s = unclaimed_after_s

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
        await self._resend_unclaimed()
        await self._retry_lost_finalizations()
        await self._fail_overdue()
        async with self._db.begin() as conn:
            outgoing = await self._engine.advance(conn, await q.needing_attention(conn))
        await self._engine.publish(outgoing)
        if time.monotonic() - self._last_retention >= self._retention_every_s:
            self._last_retention = time.monotonic()
            await self._clean_expired()

    async def _resend_unclaimed(self) -> None:
        async with self._db.connect() as conn:
            unclaimed = await dispatch.unclaimed(conn, self._unclaimed_after_s)
        if unclaimed and (resent := await self._engine.resend_unclaimed(unclaimed)):
            log.warning("items.dispatch_resent", count=resent,
                        after_s=self._unclaimed_after_s)

    async def _start_pending(self) -> None:
        async with self._db.begin() as conn:
            started = [await control.start(conn, task) for task in await q.pending_autostart(conn)]
            outgoing = [started_event(task) for task in started]
            outgoing += await self._engine.advance(conn, started)
        await self._engine.publish(outgoing)

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
        async with self._db.begin() as conn:
            outgoing = []
            for task in await q.overdue_tasks(conn):
                failed = await control.fail(
                    conn, task, f"task timed out after {task.task_timeout_s}s")
                log.warning("task.timed_out", task_id=task.id)
                metrics.TASKS_FINISHED.labels(failed.kind, failed.status.value).inc()
                outgoing.append(finished_event(failed))
        await self._engine.publish(outgoing)

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
