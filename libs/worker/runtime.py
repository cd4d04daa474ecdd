"""The worker process: consume `ProcessItems`, claim, run each item under its timeout, report.

The work message is acked only after every one of its items has a confirmed report, so a worker
killed at any point loses nothing: the broker redelivers and the redelivery re-claims what the
dead worker had claimed (items already reported are skipped by the claim)."""

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from libs.errors import ArtifactsMissing, Permanent
from libs.lifecycle import Runtime
from libs.logging import get_logger
from libs.messaging.consumer import consume
from libs.messaging.publisher import Outgoing
from libs.messaging.topology import declare_work_queue
from libs.observability import metrics, tracing
from libs.tasks.claims import claim
from libs.worker.handler import FinalizeContext, FinalizeHandler, ItemContext, ItemHandler
from libs.worker.reporter import ResultReporter
from libs.worker.steps import ItemSteps
from proto import contracts
from proto.topology import Exchange, Queue
from proto.work import (
    FinalizeTask,
    ItemResult,
    Outcome,
    ProcessItems,
    TaskFinalized,
    WorkItem,
    WorkMessage,
)

log = get_logger(__name__)


class Worker:
    """The work-consuming part of a service (see `libs.lifecycle`): it receives the process's
    database, broker connection and publisher, and opens nothing of its own."""

    def __init__(
        self, runtime: Runtime, handlers: Mapping[str, ItemHandler], *,
        concurrency: int, prefetch: int, capabilities: dict[str, Any] | None = None,
        finalizers: Mapping[str, FinalizeHandler] | None = None, stop_grace_s: float = 30.0,
        routes: Sequence[str] | None = None, step_interval_s: float = 0.5,
    ) -> None:
        self._runtime = runtime
        self._db = runtime.db
        self._publisher = runtime.publisher
        self._instance_id = runtime.instance_id
        self._handlers = dict(handlers)
        self._finalizers = dict(finalizers or {})
        self._slots = asyncio.Semaphore(concurrency)
        # An item's progress steps go out at most this often (libs/worker/steps.py).
        self._step_interval_s = step_interval_s
        self._prefetch = prefetch
        # The work queues consumed: one per kind unless given, e.g. to add this instance's own
        # `server.<name>` queue (tasks pinned to it). Messages find their handler by kind.
        self._routes = sorted(handlers) if routes is None else list(routes)
        self.capabilities = {"routes": self._routes, "concurrency": concurrency,
                             **(capabilities or {})}
        self._stop_grace_s = stop_grace_s
        self._reporter = ResultReporter(self._publisher, self._instance_id)
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        await self._reporter.start()
        channel = await self._runtime.connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        for route in self._routes:
            queue = await declare_work_queue(channel, route)
            self._consumers.append((queue, await consume(queue, WorkMessage, self._on_message)))
        log.info("worker.ready", routes=self._routes)

    async def drain(self) -> None:
        """Stop taking work; let what is in flight finish (within the grace) and report."""
        for queue, tag in self._consumers:
            await queue.cancel(tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self._stop_grace_s)
        await self._reporter.drain()

    async def _on_message(self, work: WorkMessage, message: AbstractIncomingMessage) -> None:
        self._busy += 1
        metrics.WORKER_BUSY.set(self._busy)
        self._idle.clear()
        try:
            if isinstance(work, FinalizeTask):
                await self._finalize(work)
            else:
                await self._process(work, message)
        finally:
            self._busy -= 1
            metrics.WORKER_BUSY.set(self._busy)
            if not self._busy:
                self._idle.set()

    async def _finalize(self, work: FinalizeTask) -> None:
        finalizer = self._finalizers.get(work.kind)
        if finalizer is None:
            raise Permanent(f"no finalizer for kind {work.kind!r}")
        ctx = FinalizeContext(task_id=work.task_id, kind=work.kind, tenant_id=work.tenant_id,
                              params=_params(work.kind, work.params), attempt=work.attempt)
        report = TaskFinalized(task_id=work.task_id, attempt=work.attempt,
                               instance_id=self._instance_id)
        try:
            async with asyncio.timeout(work.timeout_s):
                result = await finalizer(ctx)
            report = msgspec.structs.replace(report, result=result)
        except Permanent as exc:
            log.warning("task.finalize_failed", error=str(exc), retryable=False)
            lost = exc.item_seqs if isinstance(exc, ArtifactsMissing) else []
            report = msgspec.structs.replace(report, error=str(exc), lost_items=lost)
        except Exception as exc:
            log.warning("task.finalize_failed", error=repr(exc), retryable=True, exc_info=True)
            report = msgspec.structs.replace(report, error=f"{type(exc).__name__}: {exc}",
                                             retryable=True)
        await self._publisher.publish(Outgoing(Exchange.RESULTS, Queue.RESULTS, report,
                                               task_id=work.task_id))

    async def _process(self, work: ProcessItems, message: AbstractIncomingMessage) -> None:
        handler = self._handlers.get(work.kind)
        if handler is None:
            raise Permanent(f"no handler for kind {work.kind!r}")
        sent_at = (message.headers or {}).get("x-sent-at")
        if isinstance(sent_at, float | int) and not message.redelivered:
            metrics.ITEM_QUEUE_SECONDS.labels(work.kind).observe(max(0.0, time.time() - sent_at))
        async with self._db.begin() as conn:
            claimed = await claim(
                conn, work.task_id, work.items, redelivered=bool(message.redelivered)
            )
        if not message.redelivered:
            waits = metrics.ITEM_WAIT_SECONDS.labels(work.tenant_id, work.kind)
            for waited in claimed.values():
                waits.observe(waited)
        released = [
            ItemResult(task_id=work.task_id, seq=item.seq, attempt=item.attempt,
                       outcome=Outcome.RELEASED)
            for item in work.items if item.seq not in claimed
        ]
        params = _params(work.kind, work.params)
        runs = [self._run_item(handler, work, params, item) for item in work.items
                if item.seq in claimed]
        outcomes = await asyncio.gather(*runs)
        # One report per message: its items' results travel together and the message is
        # acked once they are confirmed.
        await self._reporter.report([*released, *outcomes])

    async def _run_item(
        self, handler: ItemHandler, work: ProcessItems, params: Any, item: WorkItem
    ) -> ItemResult:
        steps = ItemSteps(self._reporter, task_id=work.task_id, seq=item.seq,
                          attempt=item.attempt, interval_s=self._step_interval_s)
        try:
            payload = contracts.decode(work.kind, "payload", item.payload)
        except contracts.ContractViolation as exc:
            steps.close()
            return ItemResult(task_id=work.task_id, seq=item.seq, attempt=item.attempt,
                              outcome=Outcome.FAILED, error=str(exc), retryable=False)
        ctx = ItemContext(task_id=work.task_id, kind=work.kind, tenant_id=work.tenant_id,
                          params=params, item=item, report_step=steps.report, payload=payload)
        async with self._slots:
            with (structlog.contextvars.bound_contextvars(item_seq=item.seq, attempt=item.attempt),
                  tracing.span("item.handle", attributes={"conveyor.kind": work.kind,
                                                          "conveyor.item_seq": item.seq})):
                started = time.perf_counter()
                try:
                    result = await self._outcome(handler, ctx, work.item_timeout_s)
                finally:
                    steps.close()
                seconds = time.perf_counter() - started
                duration_ms = int(seconds * 1000)
                metrics.ITEM_SECONDS.labels(work.kind, result.outcome.value).observe(seconds)
                log.debug("item.finished", outcome=result.outcome, duration_ms=duration_ms)
        return msgspec.structs.replace(result, duration_ms=duration_ms)

    async def _outcome(self, handler: ItemHandler, ctx: ItemContext, timeout_s: int) -> ItemResult:
        def outcome(kind: Outcome, **fields: Any) -> ItemResult:
            return ItemResult(task_id=ctx.task_id, seq=ctx.item.seq, attempt=ctx.item.attempt,
                              outcome=kind, **fields)

        try:
            async with asyncio.timeout(timeout_s):
                done = await handler(ctx)
        except Permanent as exc:
            log.warning("item.failed", error=str(exc), retryable=False)
            return outcome(Outcome.FAILED, error=str(exc), retryable=False)
        except TimeoutError:
            log.warning("item.timed_out", timeout_s=timeout_s)
            return outcome(Outcome.FAILED, retryable=True,
                           error=f"item timed out after {timeout_s}s")
        except Exception as exc:
            log.warning("item.failed", error=repr(exc), retryable=True, exc_info=True)
            return outcome(Outcome.FAILED, retryable=True, error=f"{type(exc).__name__}: {exc}")
        result = done.result if isinstance(done.result, dict) else msgspec.to_builtins(done.result)
        return outcome(Outcome.DONE, result=result, usage=done.usage)


def _params(kind: str, params: dict[str, Any]) -> Any:
    """A work message's params as its kind's struct: params that break the contract make the
    whole message impossible (dead-lettered, and its items fail with the reason)."""
    try:
        return contracts.decode(kind, "params", params)
    except contracts.ContractViolation as exc:
        raise Permanent(str(exc)) from exc
