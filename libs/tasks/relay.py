"""The outbox relay: one per process that writes task transactions. It publishes the outbox's
rows with publisher confirms and deletes what the broker confirmed, in the same transaction
that holds them; a relay killed before its commit leaves them to be published again (a
duplicate is harmless: the first claim of an item wins, events are idempotent snapshots).

A commit in this process wakes the relay at once (`kick`); a short poll picks up what other
processes left behind (one killed after its commit) and retries after a broker outage."""

import asyncio
import contextlib

from aio_pika.exceptions import DeliveryError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.messaging.publisher import Publisher
from libs.messaging.topology import declare_work_queue
from libs.tasks import outbox
from proto.topology import WORK_QUEUE_SUFFIX, Exchange

log = get_logger(__name__)


class OutboxRelay:
    def __init__(self, db: AsyncEngine, publisher: Publisher, *, poll_s: float = 0.25,
                 batch: int = 500, retry_after_s: float = 1.0) -> None:
        self._db = db
        self._publisher = publisher
        self._poll_s = poll_s
        self._batch = batch
        self._retry_after_s = retry_after_s
        self._wake = asyncio.Event()
        self._declared: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def kick(self) -> None:
        """Something was committed to the outbox: publish it now, not at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def drain(self, within_s: float = 10.0) -> None:
        """Stop once the outbox is empty (or after `within_s`): what this process committed
        goes out before it exits, and a batch is never cut between publish and delete."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), within_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                taken = await self.relay_once()
            except Exception:
                log.exception("outbox.relay_failed")
                if self._stopping:
                    return
                await asyncio.sleep(self._retry_after_s)
                continue
            if taken:
                continue  # more may have been committed meanwhile
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows it took (0: nothing to do)."""
        async with self._db.begin() as conn:
            pending = await outbox.take(conn, self._batch)
            if not pending:
                return 0
            await self._declare_work_queues(pending)
            outcomes = await asyncio.gather(
                *(self._publisher.publish_envelope(p.envelope) for p in pending),
                return_exceptions=True)
            failed = [p for p, outcome in zip(pending, outcomes, strict=True)
                      if isinstance(outcome, BaseException)]
            published = [p.id for p, outcome in zip(pending, outcomes, strict=True)
                         if not isinstance(outcome, BaseException)]
            # Only a message the broker itself refused counts towards dropping it; one that
            # could not be sent (the broker away) waits, however long the outage.
            refused = [p for p, outcome in zip(pending, outcomes, strict=True)
                       if isinstance(outcome, DeliveryError)]
            dropped = await outbox.settle(conn, published, refused)
        if failed:
            error = next(o for o in outcomes if isinstance(o, BaseException))
            log.warning("outbox.publish_failed", count=len(failed), error=repr(error))
            for p in dropped:
                log.error("outbox.dropped", type=p.envelope.message_type,
                          task_id=p.envelope.task_id, attempts=p.attempts + 1)
            await asyncio.sleep(self._retry_after_s)
        return len(pending)

    async def _declare_work_queues(self, pending: list[outbox.Pending]) -> None:
        """A work queue exists before its first message (the publish is mandatory), even when
        no worker of its route has started yet. Declaring is idempotent."""
        for p in pending:
            key = p.envelope.routing_key
            if p.envelope.exchange is Exchange.WORK and key not in self._declared:
                await declare_work_queue(self._publisher.channel,
                                         key.removesuffix(WORK_QUEUE_SUFFIX))
                self._declared.add(key)
