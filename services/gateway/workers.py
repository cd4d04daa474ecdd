"""Several gateway processes on one port (`CONVEYOR_GATEWAY_WORKERS` > 1): one Python process
answers at most one core's worth of requests, so a machine with more cores serves its users'
polling with more processes. uvicorn's supervisor binds the port once and starts the workers,
each importing `services.gateway.app:worker_app` and accepting on the shared socket; it
restarts one that dies.

Each worker is a whole gateway (the lifecycle in libs/lifecycle.py runs in each): its own
database pool (a share of `CONVEYOR_DB_POOL_SIZE`), broker connection, private queues for task
events and token revocations (so every worker sees every event: a WebSocket or SSE client
connected to any of them gets its task's events), heartbeat under its own instance name, and
readiness. Metrics are the exception: Prometheus scrapes one worker at a time, so they use
prometheus_client's multiprocess mode (every worker writes its series to files in a directory
the supervisor creates; /metrics on any worker sums them: libs/observability/metrics.py)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import msgspec
import uvicorn

from libs.observability import metrics
from services.gateway.settings import GatewaySettings

WORKER_APP = "services.gateway.app:worker_app"


def serve_workers(settings: GatewaySettings, server_options: dict[str, Any]) -> None:
    """The supervisor: runs until SIGTERM or SIGINT, which it passes on to the workers."""
    with tempfile.TemporaryDirectory(prefix="conveyor-gateway-metrics-") as directory:
        # Read by prometheus_client when a worker imports it (the workers inherit it).
        os.environ[metrics.MULTIPROCESS_DIR] = directory
        uvicorn.run(WORKER_APP, factory=True, workers=settings.workers, **server_options)


def worker_settings(settings: GatewaySettings) -> GatewaySettings:
    """A worker's settings: its share of the database pool, and an instance name of its own
    (an explicit CONVEYOR_INSTANCE_NAME gets the worker's pid appended; the default name has
    the pid already), so the registry keeps one heartbeat per process."""
    name = f"{settings.instance_name}-{os.getpid()}" if settings.instance_name else ""
    return msgspec.structs.replace(
        settings, instance_name=name,
        db_pool_size=max(2, settings.db_pool_size // settings.workers))
