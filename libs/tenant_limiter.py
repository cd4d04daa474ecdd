"""Per-tenant bounds on a shared pool of workers: `async with limiter.slot(tenant): ...`.

At most `capacity` callers hold a slot at once (the pool's size), and at most `per_tenant` of
them belong to one tenant, so a tenant that floods the pool with slow or hostile jobs queues
behind itself while `capacity - per_tenant` slots stay free for everyone else. A freed slot goes
to the waiting tenant that holds the fewest slots (the longest-waiting one among equals), and
each tenant's own callers are served in order.
"""

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


class TenantLimiter:
    def __init__(self, capacity: int, per_tenant: int) -> None:
        if capacity < 1 or not 1 <= per_tenant <= capacity:
            raise ValueError(f"need 1 <= per_tenant ({per_tenant}) <= capacity ({capacity})")
        self.capacity = capacity
        self.per_tenant = per_tenant
        self._running: dict[str, int] = {}
        # Tenants with callers waiting, in the order they started waiting.
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    def running(self, tenant: str) -> int:
        return self._running.get(tenant, 0)

    @property
    def busy(self) -> int:
        return sum(self._running.values())

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        await self.acquire(tenant)
        try:
            yield
        finally:
            self.release(tenant)

    async def acquire(self, tenant: str) -> None:
        if not self._waiting and self.busy < self.capacity \
                and self.running(tenant) < self.per_tenant:
            self._running[tenant] = self.running(tenant) + 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant, deque()).append(granted)
        self._grant()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release(tenant)  # granted as the caller gave up: hand it on
            else:
                self._forget(tenant, granted)
            raise

    def release(self, tenant: str) -> None:
        left = self.running(tenant) - 1
        if left < 0:
            raise RuntimeError(f"tenant {tenant!r} released a slot it did not hold")
        if left:
            self._running[tenant] = left
        else:
            del self._running[tenant]
        self._grant()

    def _forget(self, tenant: str, granted: "asyncio.Future[None]") -> None:
        queue = self._waiting.get(tenant)
        if queue is not None and granted in queue:
            queue.remove(granted)
            if not queue:
                del self._waiting[tenant]

    def _grant(self) -> None:
        while self._waiting and self.busy < self.capacity:
            eligible = [t for t in self._waiting if self.running(t) < self.per_tenant]
            if not eligible:
                return
            tenant = min(eligible, key=self.running)  # min keeps the first of equals
            queue = self._waiting[tenant]
            granted = queue.popleft()
            if not queue:
                del self._waiting[tenant]
            else:
                self._waiting.move_to_end(tenant)  # its next caller waits its turn again
            self._running[tenant] = self.running(tenant) + 1
            granted.set_result(None)


class TenantBoundPool:
    """An executor of `capacity` workers (a libs.sandbox.SandboxPool) shared by every tenant:
    `await pool.run(tenant, fn, *args)`. A tenant's slot is held until its job has really
    ended, not merely until its caller stopped waiting, so callers that give up cannot take
    more than their share of the workers."""

    def __init__(self, executor: Executor, capacity: int, per_tenant: int) -> None:
        self.executor = executor
        self.limiter = TenantLimiter(capacity, per_tenant)

    async def run(self, tenant: str, fn: Callable[..., T], /, *args: Any) -> T:
        await self.limiter.acquire(tenant)
        loop = asyncio.get_running_loop()
        try:
            job = self.executor.submit(fn, *args)
        except BaseException:
            self.limiter.release(tenant)
            raise
        job.add_done_callback(lambda _: loop.call_soon_threadsafe(self.limiter.release, tenant))
        return await asyncio.wrap_future(job)
