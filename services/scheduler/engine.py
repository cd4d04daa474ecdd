"""The task engine: applies worker reports in batches, keeps each task's window of in-flight
items topped up, and finalises tasks. It holds no state that matters: everything is read from
and written to PostgreSQL in one unit of work per batch, whose messages the outbox relay
publishes once committed."""

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing
from libs.observability import metrics, tracing
from libs.tasks import finalization, settlement
from libs.tasks.events import items_settled_event, task_event
from libs.tasks.kinds import KINDS
from libs.tasks.model import Task, TaskStatus
from libs.tasks.unit_of_work import TaskUnitOfWork, TaskUnits
from proto.events import SettledItem, TaskProgressed
from proto.topology import Exchange, work_queue
from proto.work import (
    FinalizeTask,
    ItemResult,
    ItemsReported,
    Outcome,
    ProcessItems,
    Report,
    TaskFinalized,
    WorkItem,
)
from services.scheduler.dispatching import Dispatcher

log = get_logger(__name__)

MAX_FINALIZE_ATTEMPTS = 3


class Engine:
    def __init__(
        self, units: TaskUnits, *, backoff_base_s: float, progress_interval_s: float,
        dispatcher: Dispatcher,
    ) -> None:
        self._units = units
        self._dispatcher = dispatcher
        self._backoff_base_s = backoff_base_s
        self._progress_interval_s = progress_interval_s
        self._last_progress: dict[str, float] = {}

    async def apply_reports(self, reports: Sequence[Report]) -> None:
        results = [r for report in reports if isinstance(report, ItemsReported)
                   for r in report.results]
        if results:
            await self.apply_results(results)
        for report in reports:
            if isinstance(report, TaskFinalized):
                await self.apply_finalized(report)

    async def apply_finalized(self, report: TaskFinalized) -> None:
        if report.error is None:
            state, error = "done", None
        elif report.retryable and report.attempt < MAX_FINALIZE_ATTEMPTS:
            state, error = None, None  # sent again by the next advance
        else:
            state, error = "failed", f"finalization failed: {report.error}"
        await self.end_finalize(report.task_id, report.attempt, state=state,
                                result=report.result, error=error, lost_items=report.lost_items)

    async def end_finalize(self, task_id: str, attempt: int, *, state: str | None,
                           result: dict[str, Any] | None = None, error: str | None = None,
                           lost_items: Sequence[int] = ()) -> None:
        async with self._units.begin() as uow:
            task = await finalization.end_finalize(uow.conn, task_id, attempt, state=state,
                                                   result=result, error=error)
            if task is None:
                return
            if lost_items and state == "failed":
                task = await finalization.fail_lost_items(uow.conn, task, lost_items)
            await self.advance(uow, [task])

    async def apply_results(self, results: Sequence[ItemResult]) -> None:
        by_outcome: dict[Outcome, list[ItemResult]] = defaultdict(list)
        for result in results:
            by_outcome[result.outcome].append(result)
        started = time.perf_counter()
        async with self._units.begin() as uow:
            conn = uow.conn
            tasks = await settlement.lock_tasks(conn, sorted({r.task_id for r in results}))
            settled = await settlement.settle_items(
                conn, by_outcome[Outcome.DONE] + by_outcome[Outcome.FAILED],
                backoff_base_s=self._backoff_base_s,
            )
            released = await settlement.release_items(conn, by_outcome[Outcome.RELEASED])
            await settlement.extend_leases(conn, by_outcome[Outcome.PROGRESS])
            deltas = _deltas(results, settled, released)
            tasks.update(await settlement.apply_deltas(conn, list(deltas.values())))
            uow.send(*_settled_events(tasks, results, settled))
            for task_id, delta in deltas.items():
                task = tasks[task_id]
                if delta.failed and not task.continue_on_error and not task.status.finished:
                    tasks[task_id] = await uow.fail(
                        task, _first_error(results, task_id) or "an item failed")
            await self.advance(uow, [tasks[t] for t in deltas])
        _count_settled(tasks, settled, released)
        metrics.SETTLE_BATCH.observe(len(results))
        metrics.SETTLE_SECONDS.observe(time.perf_counter() - started)

    async def advance(self, uow: TaskUnitOfWork, tasks: Iterable[Task]) -> None:
        """Finalise tasks with nothing left; top up the windows of the running ones (within
        their routes' credit, by fair share: see the dispatcher)."""
        conn = uow.conn
        touched: list[Task] = []
        to_fill: list[Task] = []
        for task in tasks:
            if task.status != TaskStatus.RUNNING:
                touched.append(task)
                continue
            if task.done + task.failed + task.cancelled >= task.total:
                if task.finalize and task.done > 0 and task.finalize_state is None:
                    task = await finalization.start_finalize(conn, task, _finalize_timeout(task))
                    uow.send(_finalize_message(task))
                    touched.append(task)
                    continue
                if task.finalize_state == "running":
                    touched.append(task)
                    continue
                status = _final_status(task)
                task = await uow.finish(task, status, _failure_summary(task, status))
                self._last_progress.pop(task.id, None)
                touched.append(task)
                log.info("task.finished", task_id=task.id, status=task.status,
                         done=task.done, failed=task.failed)
                continue
            touched.append(task)
            to_fill.append(task)
            if self._progress_due(task.id):
                uow.send(task_event(TaskProgressed, task))
        if to_fill:
            with tracing.span("engine.dispatch"):
                filled = await self._dispatcher.fill(conn, to_fill)
            for task, items in filled:
                if items:
                    metrics.DISPATCH_BATCH.labels(task.kind).observe(len(items))
                    metrics.ITEMS_DISPATCHED.labels(task.kind).inc(len(items))
                uow.send(*_work_messages(task, items))
        await finalization.sync_stages(conn, touched)

    def _progress_due(self, task_id: str) -> bool:
        now = time.monotonic()
        if now - self._last_progress.get(task_id, 0.0) < self._progress_interval_s:
            return False
        self._last_progress[task_id] = now
        return True


def _finalize_message(task: Task) -> Outgoing:
    return Outgoing(
        Exchange.WORK, work_queue(task.route),
        FinalizeTask(task_id=task.id, kind=task.kind, tenant_id=task.tenant_id,
                     attempt=task.finalize_attempt, params=task.params,
                     timeout_s=_finalize_timeout(task)),
        task_id=task.id,
    )


def _work_messages(task: Task, items: list[WorkItem]) -> list[Outgoing]:
    size = task.pack_size
    return [
        Outgoing(
            Exchange.WORK,
            work_queue(task.route),
            ProcessItems(
                task_id=task.id, kind=task.kind, tenant_id=task.tenant_id, params=task.params,
                items=items[i : i + size], item_timeout_s=task.item_timeout_s,
            ),
            task_id=task.id,
        )
        for i in range(0, len(items), size)
    ]


def _finalize_timeout(task: Task) -> int:
    spec = KINDS.get(task.kind)
    return spec.finalize_timeout_s if spec else 600


def _final_status(task: Task) -> TaskStatus:
    if task.finalize_state == "failed":
        return TaskStatus.FAILED
    if task.failed == 0 and task.cancelled == 0:
        return TaskStatus.COMPLETED
    if task.done == 0:
        return TaskStatus.FAILED
    return TaskStatus.PARTIAL_SUCCESS


def _failure_summary(task: Task, status: TaskStatus) -> str | None:
    """A failed task always says why (its items carry the details)."""
    if status != TaskStatus.FAILED:
        return None
    return f"{task.failed} of {task.total} items failed"


def _deltas(
    results: Sequence[ItemResult], settled: list[tuple[str, int, str]],
    released: list[tuple[str, int]],
) -> dict[str, settlement.Delta]:
    deltas: dict[str, settlement.Delta] = {}
    usage_of = {(r.task_id, r.seq): r.usage for r in results if r.outcome == Outcome.DONE}
    for task_id, seq, status in settled:
        delta = deltas.setdefault(task_id, settlement.Delta(task_id=task_id))
        delta.freed += 1
        if status == "done":
            delta.done += 1
            for key, value in usage_of.get((task_id, seq), {}).items():
                delta.usage[key] = delta.usage.get(key, 0) + value
        elif status == "failed":
            delta.failed += 1
    for task_id, _ in released:
        deltas.setdefault(task_id, settlement.Delta(task_id=task_id)).freed += 1
    for result in results:
        if result.outcome == Outcome.PROGRESS and result.step:
            delta = deltas.setdefault(result.task_id, settlement.Delta(task_id=result.task_id))
            delta.step = result.step
    return deltas


def _settled_events(
    tasks: dict[str, Task], results: Sequence[ItemResult], settled: list[tuple[str, int, str]]
) -> list[Outgoing]:
    reported = {(r.task_id, r.seq): r for r in results}
    per_task: dict[str, list[SettledItem]] = defaultdict(list)
    for task_id, seq, status in settled:
        if status in ("done", "failed"):
            result = reported[(task_id, seq)]
            per_task[task_id].append(
                SettledItem(seq=seq, status=status, error=result.error, result=result.result)
            )
    return [items_settled_event(tasks[task_id], items) for task_id, items in per_task.items()]


_OUTCOME_OF_STATUS = {"done": "done", "failed": "failed", "pending": "retried"}


def _count_settled(tasks: dict[str, Task], settled: list[tuple[str, int, str]],
                   released: list[tuple[str, int]]) -> None:
    """Metrics after the commit: what the transaction changed, by kind and outcome."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for task_id, _, status in settled:
        task = tasks.get(task_id)
        if task is not None and status in _OUTCOME_OF_STATUS:
            counts[(task.kind, _OUTCOME_OF_STATUS[status])] += 1
    for (kind, outcome), count in counts.items():
        metrics.ITEMS_SETTLED.labels(kind, outcome).inc(count)
    for task_id, _ in released:
        if (task := tasks.get(task_id)) is not None:
            metrics.ITEMS_RELEASED.labels(task.kind).inc()


def _first_error(results: Sequence[ItemResult], task_id: str) -> str | None:
    return next((r.error for r in results if r.task_id == task_id and r.error), None)
