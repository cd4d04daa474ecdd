"""Work dispatched to workers and the results they send back."""

from enum import StrEnum
from typing import Any

import msgspec


class WorkItem(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    attempt: int
    payload: dict[str, Any] = {}


class ProcessItems(msgspec.Struct, frozen=True, kw_only=True, tag="process_items"):
    """Process these items of one task. Packing several items in one message is what makes
    cheap items fast: every AMQP message costs ~0.5 ms of CPU on the broker and the client."""

    task_id: str
    kind: str
    tenant_id: str
    params: dict[str, Any] = {}
    items: list[WorkItem]
    item_timeout_s: int = 300
    correlation_id: str | None = None


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    RELEASED = "released"  # not started: the task was paused or cancelled before the claim
    PROGRESS = "progress"  # still running; carries a step description


class ItemResult(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    seq: int
    attempt: int
    outcome: Outcome
    result: dict[str, Any] | None = None
    error: str | None = None
    retryable: bool = False
    usage: dict[str, float] = {}
    duration_ms: int = 0
    step: str | None = None


class ItemsReported(msgspec.Struct, frozen=True, kw_only=True, tag="items_reported"):
    """A worker's batch of outcomes, possibly for several tasks."""

    instance_id: str
    results: list[ItemResult]


class FinalizeTask(msgspec.Struct, frozen=True, kw_only=True, tag="finalize_task"):
    """Every item of the task has settled: do the kind's last step (e.g. package a ZIP)."""

    task_id: str
    kind: str
    tenant_id: str
    attempt: int
    params: dict[str, Any] = {}
    timeout_s: int = 600
    correlation_id: str | None = None


class TaskFinalized(msgspec.Struct, frozen=True, kw_only=True, tag="task_finalized"):
    task_id: str
    attempt: int
    instance_id: str
    result: dict[str, Any] = {}
    error: str | None = None
    retryable: bool = False
    # Items reported done whose artifact the step found missing: they fail with the task, so
    # a retry-failed task renders exactly them again.
    lost_items: list[int] = []


WorkMessage = ProcessItems | FinalizeTask
Report = ItemsReported | TaskFinalized
