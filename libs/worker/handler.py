"""What a kind's item handler sees and returns."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from proto.work import WorkItem


@dataclass(frozen=True, slots=True)
class ItemContext:
    task_id: str
    kind: str
    tenant_id: str
    params: dict[str, Any]
    item: WorkItem
    report_step: Callable[[str], Awaitable[None]]

    @property
    def payload(self) -> dict[str, Any]:
        return self.item.payload


@dataclass(frozen=True, slots=True)
class ItemDone:
    result: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinalizeContext:
    task_id: str
    kind: str
    tenant_id: str
    params: dict[str, Any]
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
