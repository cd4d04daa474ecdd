"""How the engine fills windows: by fair share within each route's credit (the default), or
first come, first served (every running task's window topped up, as a baseline to compare
with). The credit follows the registry's heartbeats, re-read every few seconds."""

import time
from collections import defaultdict
from collections.abc import Sequence

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import dispatch, fairshare
from libs.tasks.limits import TenantDefaults
from libs.tasks.model import Task
from proto.work import WorkItem


class CreditSettings(msgspec.Struct, frozen=True, kw_only=True):
    fair_share: bool = True
    buffer_ratio: float = 0.25
    min_buffer: int = 1
    default_credit: int = 100
    capacity_refresh_s: float = 2.0


class Dispatcher:
    def __init__(self, credit: CreditSettings, defaults: TenantDefaults) -> None:
        self._credit = credit
        self._defaults = defaults
        self._capacity: dict[str, int] = {}
        self._capacity_read = float("-inf")

    async def fill(self, conn: AsyncConnection,
                   tasks: Sequence[Task]) -> list[tuple[Task, list[WorkItem]]]:
        """Dispatch for these running tasks (locked by the caller) and, with fair share, for
        the other running tasks of their routes that the credit now favours."""
        if not self._credit.fair_share:
            return [(task, await dispatch.dispatch(conn, task, task.concurrency - task.inflight))
                    for task in tasks if task.concurrency > task.inflight]
        by_route: dict[str, list[Task]] = defaultdict(list)
        for task in tasks:
            by_route[task.route].append(task)
        await self._refresh_capacity(conn)
        found = []
        for route in sorted(by_route):  # one order for every transaction: no lock cycles
            found += await fairshare.fill(conn, route, by_route[route], self.credit(route),
                                          self._defaults)
        return found

    def credit(self, route: str) -> int:
        return fairshare.credit(self._capacity.get(route), buffer_ratio=self._credit.buffer_ratio,
                                min_buffer=self._credit.min_buffer,
                                default=self._credit.default_credit)

    async def _refresh_capacity(self, conn: AsyncConnection) -> None:
        if time.monotonic() - self._capacity_read < self._credit.capacity_refresh_s:
            return
        self._capacity = await fairshare.route_capacity(conn)
        self._capacity_read = time.monotonic()
