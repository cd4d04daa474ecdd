"""Progress steps: an item's latest step goes out at most every interval, none for an item
that finishes first, and reporting one never waits for (or fails with) the broker."""

import asyncio

from libs.worker.steps import ItemSteps
from proto.work import ItemResult, Outcome


class _Reporter:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[ItemResult] = []
        self.fail = fail

    async def report(self, results: list[ItemResult]) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.sent.extend(results)


def _steps(reporter: _Reporter, interval_s: float = 0.05) -> ItemSteps:
    return ItemSteps(reporter, task_id="t1", seq=7, attempt=2,  # type: ignore[arg-type]
                     interval_s=interval_s)


async def test_a_quick_item_reports_no_step() -> None:
    reporter = _Reporter()
    steps = _steps(reporter)
    await steps.report("downloading")
    await steps.report("converting")
    steps.close()
    await asyncio.sleep(0.1)
    assert reporter.sent == []


async def test_a_slow_item_reports_its_latest_step_once_per_window() -> None:
    reporter = _Reporter()
    steps = _steps(reporter)
    await steps.report("downloading")
    await steps.report("converting")
    await asyncio.sleep(0.1)
    assert [(r.step, r.outcome, r.seq, r.attempt) for r in reporter.sent] == [
        ("converting", Outcome.PROGRESS, 7, 2)]
    await steps.report("embedding")
    await asyncio.sleep(0.1)
    steps.close()
    assert [r.step for r in reporter.sent] == ["converting", "embedding"]


async def test_a_broker_failure_does_not_reach_the_handler() -> None:
    reporter = _Reporter(fail=True)
    steps = _steps(reporter)
    await steps.report("downloading")  # returns at once, raises nothing
    await asyncio.sleep(0.1)
    steps.close()
    assert reporter.sent == []
