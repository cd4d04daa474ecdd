"""Runs the engine's table upkeep (libs/tasks/maintenance.py) every few seconds when the
database has no autovacuum: what keeps a 1,000,000-item task at the rate of a small one."""

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.tasks import maintenance

log = get_logger(__name__)


async def upkeep_forever(db: AsyncEngine, interval_s: float) -> None:
    try:
        if await maintenance.autovacuum_on(db):
            log.info("upkeep.not_needed", reason="autovacuum is on")
            return
    except Exception as exc:
        log.warning("upkeep.check_failed", error=repr(exc))
    while True:
        await asyncio.sleep(interval_s)
        started = time.perf_counter()
        try:
            done = await maintenance.maintain(db)
        except Exception as exc:  # the next round retries; the engine works meanwhile
            log.warning("upkeep.failed", error=repr(exc))
            continue
        if done:
            log.info("upkeep.done", commands=done,
                     ms=int((time.perf_counter() - started) * 1000))
