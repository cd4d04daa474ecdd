"""Samples what only a query can tell into the metrics gauges every few seconds: unfinished
tasks by kind and status, in-flight items and window sizes, each tenant's queued and
running items and share per kind, and the RabbitMQ queue depths
(work queues of every kind, results, control and their dead-letter queues) as this scheduler
sees them. Each scheduler samples; with several, take max() in queries."""

import asyncio
import contextlib

from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.observability import metrics
from libs.tasks import stats
from libs.tasks.kinds import KINDS, SERVER_BATCH
from proto.topology import Queue, dead_letter_queue, work_queue

log = get_logger(__name__)

UNFINISHED = ("pending", "running", "paused")
REOPEN_POLLS, REOPEN_POLL_S, REOPEN_TIMEOUT_S = 50, 0.02, 5.0


def watched_queues() -> list[str]:
    # server_batch tasks go to each server's own queue, not to a queue of the kind.
    names = sorted(work_queue(spec.name) for spec in KINDS.values() if spec is not SERVER_BATCH)
    names += [Queue.RESULTS.value, Queue.CONTROL.value]
    return names + [dead_letter_queue(name) for name in names]


class GaugeSampler:
    def __init__(self, db: AsyncEngine, connection: AbstractRobustConnection, *,
                 interval_s: float) -> None:
        self._db = db
        self._connection = connection
        self._interval_s = interval_s
        self._channel: AbstractRobustChannel | None = None
        self._tenants_seen: set[tuple[str, str]] = set()

    async def run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception as exc:  # a gauge is a best effort; the next round retries
                log.warning("gauges.sample_failed", error=repr(exc))
            await asyncio.sleep(self._interval_s)

    async def sample(self) -> None:
        async with self._db.connect() as conn:
            rows = await stats.unfinished_by_kind(conn)
        seen = {(row.kind, row.status) for row in rows}
        for kind in {row.kind for row in rows} | set(KINDS):
            for status in UNFINISHED:  # a status that emptied reads 0, not its last value
                if (kind, status) not in seen:
                    metrics.TASKS.labels(kind, status).set(0)
            metrics.INFLIGHT.labels(kind).set(0)
            metrics.WINDOW.labels(kind).set(0)
        for row in rows:
            metrics.TASKS.labels(row.kind, row.status).set(row.tasks)
            if row.status == "running":
                metrics.INFLIGHT.labels(row.kind).set(row.inflight)
                metrics.WINDOW.labels(row.kind).set(row.window)
        await self._sample_tenants()
        await self._sample_queues()

    async def _sample_tenants(self) -> None:
        async with self._db.connect() as conn:
            shares = await stats.tenant_shares(conn)
        now = set()
        for row in shares:
            now.add((row.tenant_id, row.kind))
            metrics.TENANT_ITEMS.labels(row.tenant_id, row.kind, "queued").set(row.queued)
            metrics.TENANT_ITEMS.labels(row.tenant_id, row.kind, "running").set(row.inflight)
            metrics.TENANT_SHARE.labels(row.tenant_id, row.kind).set(row.share)
        for tenant, kind in self._tenants_seen - now:  # a tenant that went idle reads 0
            for state in ("queued", "running"):
                metrics.TENANT_ITEMS.labels(tenant, kind, state).set(0)
            metrics.TENANT_SHARE.labels(tenant, kind).set(0)
        self._tenants_seen |= now

    async def _sample_queues(self) -> None:
        for name in watched_queues():
            channel = await self._ready_channel()
            try:
                # Passive: reads the counts, never creates a queue. A missing one makes the
                # broker close the channel; being robust, the channel reopens itself, so it is
                # kept (a fresh channel per miss leaked one channel each time).
                queue = await channel.declare_queue(name, passive=True)
            except Exception:
                continue
            result = queue.declaration_result
            metrics.QUEUE_MESSAGES.labels(name).set(result.message_count or 0)
            metrics.QUEUE_CONSUMERS.labels(name).set(result.consumer_count or 0)

    async def _ready_channel(self) -> AbstractRobustChannel:
        if self._channel is None:
            self._channel = await self._connection.channel()
        for _ in range(REOPEN_POLLS):  # the close of a passive miss arrives after its error
            if not self._channel.is_closed:
                break
            await asyncio.sleep(REOPEN_POLL_S)
        await asyncio.wait_for(self._channel.ready(), REOPEN_TIMEOUT_S)
        return self._channel

    async def close(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            with contextlib.suppress(Exception):
                await self._channel.close()
