"""What a kind's item handler sees and returns."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from proto.work import WorkItem


@dataclass(frozen=True, slots=True)
class ItemContext:
    """`params` and `payload` are the kind's contract structs (proto/contracts.py), decoded
    before the handler runs; a dict for a kind without one."""

    task_id: str
    kind: str
    tenant_id: str
    params: Any
    item: WorkItem
    report_step: Callable[[str], Awaitable[None]]
    payload: Any = None


@dataclass(frozen=True, slots=True)
class ItemDone:
    result: dict[str, Any] | msgspec.Struct = field(default_factory=dict)  # the kind's result
    usage: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinalizeContext:
    task_id: str
    kind: str
    tenant_id: str
    params: Any  # the kind's params struct (a dict for a kind without a contract)
    attempt: int


class FinalizeHandler(Protocol):
    """The kind's last step once every item settled; returns the task's `result`. Like items,
    it may run twice (a worker dying after the effect): make it idempotent."""

    async def __call__(self, ctx: FinalizeContext) -> dict[str, Any]: ...


class ItemHandler(Protocol):
    """Do one item. Raise `Permanent` for input that can never succeed; anything else is
    retried (within the task's attempt limit). Effects must be idempotent per (task, seq):
    an item can run twice when a worker dies after its effect but before its report."""

    async def __call__(self, ctx: ItemContext) -> ItemDone: ...
