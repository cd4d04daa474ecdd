"""A cluster of a test module's own: its own database and vhost (on the run's S3 bucket), for
modules that kill, restart or reconfigure services and must not disturb the shared stack."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text

from libs.db.engine import create_engine
from tests.harness import infra
from tests.harness.cluster import Cluster
from tests.harness.infra import S3Endpoint

# Small pools: the shared PostgreSQL has 100 connections for every engineer.
SMALL_POOLS = {"CONVEYOR_DB_POOL_SIZE": "3"}


@contextlib.asynccontextmanager
async def own_cluster(name: str, run_id: str, s3: S3Endpoint, workdir: Path,
                      env: dict[str, str]) -> AsyncIterator[Cluster]:
    """A cluster (no service started yet) on database `conveyor_test_<run>_<name>` and vhost
    `conveyor-test-<run>-<name>`, with `env` on top; all of it removed afterwards."""
    database, vhost = f"conveyor_test_{run_id}_{name}", f"conveyor-test-{run_id}-{name}"
    url = await infra.create_database(database)
    try:
        await infra.migrate(url)
        amqp = await infra.create_vhost(vhost)
        cluster = Cluster({
            "CONVEYOR_ENV": "prod", "CONVEYOR_DATABASE_URL": url, "CONVEYOR_AMQP_URL": amqp,
            "CONVEYOR_S3_ENDPOINT": s3.endpoint, "CONVEYOR_S3_ACCESS_KEY": s3.access_key,
            "CONVEYOR_S3_SECRET_KEY": s3.secret_key, "CONVEYOR_S3_SECURE": "0",
            "CONVEYOR_S3_BUCKET": s3.bucket, "CONVEYOR_GATEWAY_HOST": "127.0.0.1",
            **SMALL_POOLS, **env}, workdir)
        try:
            yield cluster
        finally:
            await cluster.stop_all()
            await infra.delete_vhost(vhost)
    finally:
        await infra.drop_database(database)


async def wait_online(cluster: Cluster, count: int, within_s: float = 30) -> None:
    """Until the registry has at least `count` instances online (it has seen their beats)."""
    db = create_engine(cluster.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    deadline = time.monotonic() + within_s
    try:
        while True:
            async with db.connect() as conn:
                online = int(await conn.scalar(text(
                    "SELECT count(*) FROM instances WHERE status = 'online'")) or 0)
            if online >= count:
                return
            assert time.monotonic() < deadline, f"{online} of {count} instances online"
            await asyncio.sleep(0.1)
    finally:
        await db.dispose()
