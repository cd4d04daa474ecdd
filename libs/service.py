"""Process entry point shared by all services: uvloop, logging, tracing, the probe/metrics
endpoint, and a clean stop on SIGTERM or SIGINT (stop consuming, let in-flight work finish, say
goodbye to the registry). What runs in between is the shared lifecycle (`libs.lifecycle`)."""

import asyncio
import contextlib
import signal

import uvloop

from libs.lifecycle import Build, run_until_stopped
from libs.logging import configure_logging, get_logger
from libs.observability import endpoint, tracing
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
    # Up before the service connects to anything: /livez answers and /readyz says 503 until
    # the lifecycle has registered the checks and they pass.
    probes = (await endpoint.serve(settings.metrics_host, settings.metrics_port)
              if settings.metrics_port else None)
    try:
        await run_until_stopped(settings, service, build, stopping, db_pool_size=db_pool_size)
    finally:
        if probes is not None:
            await probes.close()


def run_service(
    service: str, settings: CommonSettings, build: Build, *, db_pool_size: int | None = None
) -> None:
    """Run the service `build` wires, in the shared lifecycle, until the process is told to
    stop. A service's `app.main()` loads its settings and calls this."""
    configure_logging(service, json_logs=settings.json_logs, level=settings.log_level)
    tracing.configure(service, settings)
    log.info("service.starting", instance=settings.instance(service))
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_until_signalled(settings, service, build, db_pool_size))
    tracing.shutdown()
    log.info("service.stopped")
