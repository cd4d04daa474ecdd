"""Process entry point shared by all services: uvloop, logging, and a clean stop on SIGTERM or
SIGINT (stop consuming, let in-flight work finish, say goodbye to the registry). What runs in
between is the shared lifecycle (`libs.lifecycle`)."""

import asyncio
import contextlib
import signal

import uvloop

from libs.lifecycle import Build, run_until_stopped
from libs.logging import configure_logging, get_logger
from libs.settings import CommonSettings

log = get_logger(__name__)


async def _until_signalled(
    settings: CommonSettings, service: str, build: Build, db_pool_size: int | None
) -> None:
    # Handlers go in before anything starts: a SIGTERM during start-up still stops cleanly.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await run_until_stopped(settings, service, build, stopping, db_pool_size=db_pool_size)


def run_service(
    service: str, settings: CommonSettings, build: Build, *, db_pool_size: int | None = None
) -> None:
    """Run the service `build` wires, in the shared lifecycle, until the process is told to
    stop. A service's `__main__` loads its settings and calls this; nothing else."""
    configure_logging(service, json_logs=settings.json_logs, level=settings.log_level)
    log.info("service.starting", instance=settings.instance(service))
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_until_signalled(settings, service, build, db_pool_size))
    log.info("service.stopped")
