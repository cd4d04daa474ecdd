"""Batches item results into `ItemsReported` messages: one message for many items is what lets
cheap items go fast. A caller awaits the flush that carried its results before it acks."""

import asyncio

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from proto.topology import Exchange, Queue
from proto.work import ItemResult, ItemsReported

log = get_logger(__name__)


class ResultReporter:
    def __init__(
        self, publisher: Publisher, instance_id: str, *, max_batch: int = 500,
        linger_s: float = 0.005,
    ) -> None:
        self._publisher = publisher
        self._instance_id = instance_id
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._pending: list[ItemResult] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="result-reporter")

    async def drain(self) -> None:
        if self._task:
            self._task.cancel()

    async def report(self, results: list[ItemResult]) -> None:
        """Return once these results are confirmed by the broker; raise if they could not be."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.extend(results)
        self._waiters.append(future)
        self._wakeup.set()
        await future

    async def _loop(self) -> None:
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(self._linger_s)  # let concurrent items join this flush
            self._wakeup.clear()
            results, self._pending = self._pending, []
            waiters, self._waiters = self._waiters, []
            try:
                await self._publisher.publish_many(
                    Outgoing(
                        Exchange.RESULTS, Queue.RESULTS,
                        ItemsReported(instance_id=self._instance_id, results=chunk),
                    )
                    for chunk in _chunks(results, self._max_batch)
                )
            except Exception as exc:
                log.warning("results.publish_failed", error=repr(exc), count=len(results))
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


def _chunks(results: list[ItemResult], size: int) -> list[list[ItemResult]]:
    return [results[i : i + size] for i in range(0, len(results), size)]
