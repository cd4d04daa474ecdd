"""An item's progress steps ("downloading", "converting", ...) on their way to the scheduler.

A step is a message to the scheduler, a lease extension and a task update there. Items that
take a fraction of a second (most documents of a knowledge-base sync) used to report three or
four steps each that nobody could see before the item's result replaced them: a 200-document
sync spent ~1 CPU-second of its two cores on them. So an item's latest step goes out at most
every `interval_s`, the first once the item has been at it that long; an item that finishes
sooner reports no step at all. Reporting a step never waits for the broker: steps are
best-effort (the item's result is what must arrive)."""

import asyncio

from libs.logging import get_logger
from libs.worker.reporter import ResultReporter
from proto.work import ItemResult, Outcome

log = get_logger(__name__)


class ItemSteps:
    def __init__(self, reporter: ResultReporter, *, task_id: str, seq: int, attempt: int,
                 interval_s: float) -> None:
        self._reporter = reporter
        self._task_id = task_id
        self._seq = seq
        self._attempt = attempt
        self._interval_s = interval_s
        self._latest: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def report(self, step: str) -> None:
        """The handler's `report_step`: remembered now, sent when its window closes."""
        self._latest = step
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval_s, self._send)

    def _send(self) -> None:
        step, self._latest, self._timer = self._latest, None, None
        if step is None:
            return
        result = ItemResult(task_id=self._task_id, seq=self._seq, attempt=self._attempt,
                            outcome=Outcome.PROGRESS, step=step)
        sending = asyncio.create_task(self._reporter.report([result]))
        self._sending.add(sending)
        sending.add_done_callback(self._sent)

    def _sent(self, sending: "asyncio.Task[None]") -> None:
        self._sending.discard(sending)
        if not sending.cancelled() and sending.exception() is not None:
            log.debug("item.step_not_reported", error=repr(sending.exception()))

    def close(self) -> None:
        """The item is done: a step still waiting for its window is dropped (its result,
        about to be reported, says more)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._latest = None
