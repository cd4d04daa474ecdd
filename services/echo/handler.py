"""Echo an item back, after an optional delay, or fail on request (for tests and drills)."""

import asyncio
import os
from typing import Any

from libs.errors import Permanent
from libs.worker.handler import FinalizeContext, ItemContext, ItemDone
from proto.echo import EchoParams, EchoPayload, EchoResult

MAX_SLEEP_MS = 60_000


async def echo(ctx: ItemContext) -> ItemDone:
    payload: EchoPayload = ctx.payload
    sleep_ms = min(payload.sleep_ms, MAX_SLEEP_MS)
    if sleep_ms > 0:
        await asyncio.sleep(sleep_ms / 1000)
    if payload.fail == "permanent":
        raise Permanent("asked to fail")
    if ctx.item.attempt <= payload.fail_attempts:
        raise RuntimeError(f"asked to fail attempt {ctx.item.attempt}")
    return ItemDone(result=EchoResult(echo=payload.value, attempt=ctx.item.attempt),
                    usage={"items": 1})


async def echo_finalize(ctx: FinalizeContext) -> dict[str, Any]:
    """Echo's last step: says it ran (tests drive the engine's finalization with it)."""
    params: EchoParams = ctx.params
    if params.finalize_fail == "permanent":
        raise Permanent("asked to fail finalization")
    return {"finalized": True, "finalize_attempt": ctx.attempt}


async def echo_finalize_with_crash_drill(ctx: FinalizeContext) -> dict[str, Any]:
    """Only on an instance started for fault drills (CONVEYOR_ECHO_CRASH_DRILLS=1; never a
    tenant's choice): `finalize_fail: crash` kills the process each time the step is delivered,
    as a worker that keeps dying would, until the broker dead-letters the message."""
    params: EchoParams = ctx.params
    if params.finalize_fail == "crash":
        os._exit(70)
    return await echo_finalize(ctx)
