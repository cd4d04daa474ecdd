"""The task engine: applies worker reports in batches, keeps each task's window of in-flight
items topped up, and finalises tasks. It holds no state that matters: everything is read from
and written to PostgreSQL in one transaction per batch, then published after the commit."""

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from libs.messaging.topology import declare_work_queue
from libs.observability import metrics, tracing
from libs.tasks import control, dispatch, finalization, settlement
from libs.tasks.events import finished_event, items_settled_event, task_event
from libs.tasks.kinds import KINDS
from libs.tasks.model import Task, TaskStatus
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
        self, db: AsyncEngine, publisher: Publisher, *, backoff_base_s: float,
        progress_interval_s: float, dispatcher: Dispatcher,
    ) -> None:
        self._db = db
        self._dispatcher = dispatcher
        self._publisher = publisher
        self._backoff_base_s = backoff_base_s
        self._progress_interval_s = progress_interval_s
        self._last_progress: dict[str, float] = {}
        self._declared_routes: set[str] = set()

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
        async with self._db.begin() as conn:
            task = await finalization.end_finalize(conn, task_id, attempt, state=state,
                                                   result=result, error=error)
            if task is None:
                return
            if lost_items and state == "failed":
                task = await finalization.fail_lost_items(conn, task, lost_items)
            outgoing = await self.advance(conn, [task])
        await self.publish(outgoing)

    async def apply_results(self, results: Sequence[ItemResult]) -> None:
        by_outcome: dict[Outcome, list[ItemResult]] = defaultdict(list)
        for result in results:
            by_outcome[result.outcome].append(result)
        started = time.perf_counter()
        async with self._db.begin() as conn:
            tasks = await settlement.lock_tasks(conn, sorted({r.task_id for r in results}))
            settled = await settlement.settle_items(
                conn, by_outcome[Outcome.DONE] + by_outcome[Outcome.FAILED],
                backoff_base_s=self._backoff_base_s,
            )
            released = await settlement.release_items(conn, by_outcome[Outcome.RELEASED])
            await settlement.extend_leases(conn, by_outcome[Outcome.PROGRESS])
            deltas = _deltas(results, settled, released)
            tasks.update(await settlement.apply_deltas(conn, list(deltas.values())))
            outgoing = _settled_events(tasks, results, settled)
            for task_id, delta in deltas.items():
                task = tasks[task_id]
                if delta.failed and not task.continue_on_error and not task.status.finished:
                    task = await control.fail(
                        conn, task, _first_error(results, task_id) or "an item failed")
                    tasks[task_id] = task
                    outgoing.append(finished_event(task))
                    metrics.TASKS_FINISHED.labels(task.kind, task.status.value).inc()
            outgoing += await self.advance(conn, [tasks[t] for t in deltas])
        _count_settled(tasks, settled, released)
        metrics.SETTLE_BATCH.observe(len(results))
        metrics.SETTLE_SECONDS.observe(time.perf_counter() - started)
        await self.publish(outgoing)

    async def advance(self, conn: AsyncConnection, tasks: Iterable[Task]) -> list[Outgoing]:
        """Finalise tasks with nothing left; top up the windows of the running ones (within
        their routes' credit, by fair share: see the dispatcher)."""
        outgoing: list[Outgoing] = []
        touched: list[Task] = []
        to_fill: list[Task] = []
        for task in tasks:
            if task.status != TaskStatus.RUNNING:
                touched.append(task)
                continue
            if task.done + task.failed + task.cancelled >= task.total:
                if task.finalize and task.done > 0 and task.finalize_state is None:
                    task = await finalization.start_finalize(conn, task, _finalize_timeout(task))
                    outgoing.append(self._finalize_message(task))
                    touched.append(task)
                    continue
                if task.finalize_state == "running":
                    touched.append(task)
                    continue
                status = _final_status(task)
                task = await control.finish(conn, task, status, _failure_summary(task, status))
                metrics.TASKS_FINISHED.labels(task.kind, task.status.value).inc()
                self._last_progress.pop(task.id, None)
                outgoing.append(finished_event(task))
                touched.append(task)
                log.info("task.finished", task_id=task.id, status=task.status,
                         done=task.done, failed=task.failed)
                continue
            touched.append(task)
            to_fill.append(task)
            if self._progress_due(task.id):
                outgoing.append(task_event(TaskProgressed, task))
        if to_fill:
            with tracing.span("engine.dispatch"):
                filled = await self._dispatcher.fill(conn, to_fill)
            for task, items in filled:
                if items:
                    metrics.DISPATCH_BATCH.labels(task.kind).observe(len(items))
                    metrics.ITEMS_DISPATCHED.labels(task.kind).inc(len(items))
                outgoing += await self._work_messages(task, items)
        await finalization.sync_stages(conn, touched)
        return outgoing

    async def publish(self, outgoing: list[Outgoing]) -> None:
        """Publish after commit. Work that cannot be published is undone (its items go back to
        pending) so a broker outage delays items but never strands them."""
        work = [out for out in outgoing if out.exchange is Exchange.WORK]
        events = [out for out in outgoing if out.exchange is not Exchange.WORK]
        try:
            await self._publisher.publish_many(work)
        except Exception as exc:
            log.warning("dispatch.publish_failed", error=repr(exc), messages=len(work))
            await self._undo_dispatch(work)
        try:
            await self._publisher.publish_many(events)
        except Exception as exc:  # events are notifications: state is already committed
            log.warning("events.publish_failed", error=repr(exc), messages=len(events))

    async def _undo_dispatch(self, work: list[Outgoing]) -> None:
        async with self._db.begin() as conn:
            for out in work:
                if isinstance(out.message, ProcessItems):
                    await dispatch.undispatch(conn, out.message.task_id, out.message.items)
                elif isinstance(out.message, FinalizeTask):
                    await finalization.end_finalize(
                        conn, out.message.task_id, out.message.attempt, state=None)

    async def resend_unclaimed(self, found: list[tuple[Task, list[WorkItem]]]) -> int:
        """Publish again the work of items dispatched long ago and still unclaimed, where their
        queue holds no message (theirs is not waiting there: a scheduler died between its commit
        and its publish). A duplicate is harmless: the first claim wins, and the other reports
        the item released, which changes nothing once it is claimed. Returns the items resent."""
        outgoing: list[Outgoing] = []
        for task, items in found:
            queue = await declare_work_queue(self._publisher.channel, task.route)
            if queue.declaration_result.message_count:
                continue
            outgoing += await self._work_messages(task, items)
        await self._publisher.publish_many(outgoing)
        return sum(len(out.message.items) for out in outgoing
                   if isinstance(out.message, ProcessItems))

    def _finalize_message(self, task: Task) -> Outgoing:
        return Outgoing(
            Exchange.WORK, work_queue(task.route),
            FinalizeTask(task_id=task.id, kind=task.kind, tenant_id=task.tenant_id,
                         attempt=task.finalize_attempt, params=task.params,
                         timeout_s=_finalize_timeout(task)),
            task_id=task.id,
        )

    async def _work_messages(self, task: Task, items: list[WorkItem]) -> list[Outgoing]:
        if not items:
            return []
        if task.route not in self._declared_routes:
            # Declaring is idempotent; doing it before the first publish makes sure the
            # mandatory publish has a queue to land in even before any worker started.
            channel = self._publisher.channel
            await declare_work_queue(channel, task.route)
            self._declared_routes.add(task.route)
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

    def _progress_due(self, task_id: str) -> bool:
        now = time.monotonic()
        if now - self._last_progress.get(task_id, 0.0) < self._progress_interval_s:
            return False
        self._last_progress[task_id] = now
        return True


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
