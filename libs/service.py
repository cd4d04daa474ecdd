"""Process entry point shared by all services: uvloop, logging, the probe/metrics endpoint, and
a clean stop on SIGTERM or SIGINT (stop consuming, let in-flight work finish, say goodbye to the
registry)."""

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

import uvloop

from libs.logging import configure_logging, get_logger
from libs.observability import endpoint, tracing
from libs.settings import CommonSettings

log = get_logger(__name__)


async def _with_stop_signals(
    main: Callable[[asyncio.Event], Awaitable[None]], settings: CommonSettings
) -> None:
    # Handlers go in before anything starts: a SIGTERM during start-up still stops cleanly.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    # Up before the service connects to anything: /livez answers and /readyz says 503 until
    # the service has registered its checks and they pass.
    probes = (await endpoint.serve(settings.metrics_host, settings.metrics_port)
              if settings.metrics_port else None)
    try:
        await main(stopping)
    finally:
        if probes is not None:
            await probes.close()


def run_service(
    service: str, settings: CommonSettings, main: Callable[[asyncio.Event], Awaitable[None]]
) -> None:
    """Run `main(stopping)`; `stopping` is set when the process is asked to stop."""
    configure_logging(service, json_logs=settings.json_logs, level=settings.log_level)
    tracing.configure(service, settings)
    log.info("service.starting", instance=settings.instance(service))
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_with_stop_signals(main, settings))
    tracing.shutdown()
    log.info("service.stopped")
