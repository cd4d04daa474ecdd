"""Echo an item back, after an optional delay, or fail on request (for tests and drills)."""

import asyncio
import os
from typing import Any

from libs.errors import Permanent
from libs.worker.handler import FinalizeContext, ItemContext, ItemDone

MAX_SLEEP_MS = 60_000


async def echo(ctx: ItemContext) -> ItemDone:
    payload = ctx.payload
    sleep_ms = min(int(payload.get("sleep_ms", 0)), MAX_SLEEP_MS)
    if sleep_ms:
        await asyncio.sleep(sleep_ms / 1000)
    if payload.get("fail") == "permanent":
        raise Permanent("asked to fail")
    if ctx.item.attempt <= int(payload.get("fail_attempts", 0)):
        raise RuntimeError(f"asked to fail attempt {ctx.item.attempt}")
    return ItemDone(
        result={"echo": payload.get("value"), "attempt": ctx.item.attempt},
        usage={"items": 1},
    )


async def echo_finalize(ctx: FinalizeContext) -> dict[str, Any]:
    """Echo's last step: says it ran (tests drive the engine's finalization with it)."""
    if ctx.params.get("finalize_fail") == "permanent":
        raise Permanent("asked to fail finalization")
    return {"finalized": True, "finalize_attempt": ctx.attempt}


async def echo_finalize_with_crash_drill(ctx: FinalizeContext) -> dict[str, Any]:
    """Only on an instance started for fault drills (CONVEYOR_ECHO_CRASH_DRILLS=1; never a
    tenant's choice): `finalize_fail: crash` kills the process each time the step is delivered,
    as a worker that keeps dying would, until the broker dead-letters the message."""
    if ctx.params.get("finalize_fail") == "crash":
        os._exit(70)
    return await echo_finalize(ctx)
