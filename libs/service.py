"""Process entry point shared by all services: uvloop, logging, and a clean stop on SIGTERM or
SIGINT (stop consuming, let in-flight work finish, say goodbye to the registry)."""

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

import uvloop

from libs.logging import configure_logging, get_logger
from libs.settings import CommonSettings

log = get_logger(__name__)


async def wait_for_stop() -> None:
    """Return when the process is asked to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("service.stopping")


def run_service(
    service: str, settings: CommonSettings, main: Callable[[], Awaitable[None]]
) -> None:
    configure_logging(service, json_logs=settings.json_logs, level=settings.log_level)
    log.info("service.starting", instance=settings.instance(service))
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main())
    log.info("service.stopped")
