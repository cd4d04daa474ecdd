"""The echo kind's contracts: a no-op item (for tests, drills and the engine's benchmark) that
waits, fails on request, and echoes its value back."""

from typing import Any

import msgspec


class EchoParams(msgspec.Struct, frozen=True, kw_only=True):
    # The finalize step fails permanently, or (on a drill instance only) crashes its worker.
    finalize_fail: str | None = None  # "permanent" or "crash"


class EchoPayload(msgspec.Struct, frozen=True, kw_only=True):
    value: Any = None
    sleep_ms: int = 0
    fail: str | None = None  # "permanent": fail at once, never retried
    fail_attempts: int = 0  # attempts up to this one fail (retryably)


class EchoResult(msgspec.Struct, frozen=True, kw_only=True):
    echo: Any
    attempt: int
