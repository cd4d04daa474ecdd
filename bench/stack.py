"""An isolated cluster for a benchmark run: its own database, vhost and S3 bucket, services as
processes (the same harness the end-to-end tests use)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tests.harness import Cluster, create_user, infra
from tests.harness.cluster import ServiceHandle

READY_WITHIN_S = 300  # an ingester loads torch and its model first


async def _wait_ready(handle: ServiceHandle) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while "service.ready" not in handle.log.read_text(errors="replace"):
        if time.monotonic() > deadline or not handle.running():
            raise RuntimeError(f"{handle.name} never became ready:\n{handle.tail()}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def isolated_stack(
    services: list[str], extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Cluster, str, str]]:
    """Yields (cluster, gateway url, token); everything is removed afterwards. `extra_env`
    (CONVEYOR_* settings) goes to every service."""
    run = secrets.token_hex(4)
    database, vhost, bucket = f"conveyor_bench_{run}", f"conveyor-bench-{run}", f"bench-{run}"
    url = await infra.create_database(database)
    await infra.migrate(url)
    amqp = await infra.create_vhost(vhost)
    server, s3 = infra.start_s3(bucket)
    env = {
        "CONVEYOR_ENV": "prod",
        "CONVEYOR_DATABASE_URL": url, "CONVEYOR_AMQP_URL": amqp,
        "CONVEYOR_S3_ENDPOINT": s3.endpoint, "CONVEYOR_S3_ACCESS_KEY": s3.access_key,
        "CONVEYOR_S3_SECRET_KEY": s3.secret_key, "CONVEYOR_S3_BUCKET": s3.bucket,
        **(extra_env or {}),
    }
    cluster = Cluster(env, Path(tempfile.mkdtemp(prefix="conveyor-bench-")))
    try:
        for name in services:
            handle = await cluster.start(name)
            if name != "gateway":
                await _wait_ready(handle)
        token = await create_user(env, "bench", "bench")
        yield cluster, cluster.gateway.url, token
    finally:
        await cluster.stop_all()
        server.stop()
        await infra.delete_vhost(vhost)
        await infra.drop_database(database)
