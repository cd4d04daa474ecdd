"""Liveness and readiness of a process.

Live: the event loop answers (the probe endpoint itself runs on it). Ready: every registered
check passes within its timeout: PostgreSQL, RabbitMQ and S3 for every process, plus a
process's own resources (a worker's LibreOffice pool). Checks are cached for `CACHE_S`, so a
probe every second from several places costs one round of checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.observability import metrics

Check = Callable[[], Awaitable[None]]  # returns when healthy; raises (anything) when not

CHECK_TIMEOUT_S = 2.0
CACHE_S = 0.5


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, str]  # name -> "ok" or the reason it failed


@dataclass
class Probes:
    checks: dict[str, Check] = field(default_factory=dict)
    _last: Readiness | None = None
    _at: float = 0.0
    _lock: asyncio.Lock | None = None

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check
        self._last = None

    def clear(self) -> None:
        self.checks.clear()
        self._last = None

    async def readiness(self) -> Readiness:
        if self._last is not None and time.monotonic() - self._at < CACHE_S:
            return self._last
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent probes share one round of checks
            if self._last is None or time.monotonic() - self._at >= CACHE_S:
                self._last = await self._run()
                self._at = time.monotonic()
            return self._last

    async def _run(self) -> Readiness:
        names = list(self.checks)
        outcomes = await asyncio.gather(*(_timed(self.checks[n]) for n in names))
        results = dict(zip(names, outcomes, strict=True))
        for name, outcome in results.items():
            metrics.CHECK_UP.labels(name).set(1 if outcome == "ok" else 0)
        # No checks registered yet means the process is still starting: not ready.
        ready = bool(results) and all(v == "ok" for v in results.values())
        metrics.READY.set(1 if ready else 0)
        return Readiness(ready, results)


async def _timed(check: Check) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await check()
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_S:.0f}s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return "ok"


PROBES = Probes()
"""The process's probes: the lifecycle serves them, services add their checks."""


# --- the usual checks ------------------------------------------------------------------------

def postgres(db: AsyncEngine) -> Check:
    async def check() -> None:
        async with db.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


def rabbitmq(connection: Any) -> Check:
    """A robust aio-pika connection is up when its `connected` event is set (it clears on a
    lost connection and is set again by the reconnect)."""

    async def check() -> None:
        if connection.is_closed or not connection.connected.is_set():
            raise ConnectionError("not connected to RabbitMQ")

    return check


def s3(storage: Any) -> Check:
    async def check() -> None:
        if not await storage.bucket_exists():
            raise LookupError(f"bucket {storage.bucket!r} does not exist")

    return check


def add_standard(db: AsyncEngine, connection: Any, storage: Any) -> None:
    """PostgreSQL, RabbitMQ and S3: what every Conveyor process needs to do its work."""
    PROBES.add("postgres", postgres(db))
    PROBES.add("rabbitmq", rabbitmq(connection))
    PROBES.add("s3", s3(storage))
