"""The soak's own cluster: broker nodes, database, an S3 process, services; torn down after."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.soak.postgres import OwnPostgres
from bench.stack import _wait_ready
from tests.harness import Cluster, create_user, infra
from tests.harness.cluster import ServiceHandle

sys.path.insert(0, str(infra.ROOT / "scripts"))
import rabbitmq_nodes

VHOST = "conveyor"
BROKER_NODES = 3
TENANTS = ("soak-a", "soak-b", "soak-c")
# Each service and how many instances; the scheduler twice, so one survives the other's kill.
SERVICES = (("registry", 1), ("scheduler", 2), ("echo", 2), ("docrender", 1), ("slides", 1),
            ("ingester", 1), ("gateway", 1))
# Short clocks so that leases expire and sweeps run within a soak's patience.
FAST = {
    "CONVEYOR_HEARTBEAT_INTERVAL_S": "1",
    "CONVEYOR_SCHEDULER_SWEEP_INTERVAL_S": "0.5",
    "CONVEYOR_SCHEDULER_BACKOFF_BASE_S": "0.2",
    "CONVEYOR_REGISTRY_SWEEP_INTERVAL_S": "0.5",
    "CONVEYOR_DOCRENDER_OFFICE_INSTANCES": "1",
}


@dataclass
class SoakEnv:
    cluster: Cluster
    env: dict[str, str]
    brokers: list[rabbitmq_nodes.Node]
    postgres: OwnPostgres
    s3: subprocess.Popen[bytes]
    tokens: dict[str, str]  # tenant -> bearer token
    workdir: Path
    handles: dict[str, list[ServiceHandle]] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return self.cluster.gateway.url

    def pause_s3(self) -> None:
        self.s3.send_signal(signal.SIGSTOP)

    def resume_s3(self) -> None:
        self.s3.send_signal(signal.SIGCONT)

    async def restart(self, handle: ServiceHandle) -> ServiceHandle:
        """Start a killed instance again (as a supervisor would) and put it in its place."""
        fresh = await self.cluster.restart(handle)
        group = self.handles[handle.name]
        group[group.index(handle)] = fresh
        if fresh.name != "gateway":
            await _wait_ready(fresh)
        return fresh


def _start_s3(workdir: Path, bucket: str) -> tuple[subprocess.Popen[bytes], infra.S3Endpoint]:
    """The local S3 endpoint (scripts/local_s3.py) as a process of its own (the tests'
    in-process one cannot be paused), with the bucket created."""
    from minio import Minio

    port = infra.free_port()
    log = (workdir / "s3.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(infra.ROOT / "scripts" / "local_s3.py"), "-H", "127.0.0.1", "-p",
         str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "CONVEYOR_S3_ACCESS_KEY": infra.S3_ACCESS_KEY,
             "CONVEYOR_S3_SECRET_KEY": infra.S3_SECRET_KEY})
    endpoint = infra.S3Endpoint(f"127.0.0.1:{port}", infra.S3_ACCESS_KEY, infra.S3_SECRET_KEY,
                                bucket)
    client = Minio(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, secure=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.make_bucket(bucket)
            return process, endpoint
        except Exception:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)


def _first_port() -> int:
    for port in range(5801, 6800, 10):
        if not any(infra.port_open("127.0.0.1", p) for p in (port, port + 1, port + 2,
                                                               port + 20000)):
            return port
    raise RuntimeError("no free ports for the soak's broker nodes")


@contextlib.asynccontextmanager
async def soak_env() -> AsyncIterator[SoakEnv]:
    run = secrets.token_hex(4)
    workdir = Path(tempfile.mkdtemp(prefix="conveyor-soak-"))
    database = f"conveyor_soak_{run}"
    brokers = await asyncio.to_thread(rabbitmq_nodes.start, workdir / "rabbitmq", BROKER_NODES,
                                      _first_port(), VHOST)
    postgres = OwnPostgres(workdir)
    await asyncio.to_thread(postgres.start)
    db_url = await postgres.create_database(database)
    s3, endpoint = await asyncio.to_thread(_start_s3, workdir, f"soak-{run}")
    cluster: Cluster | None = None
    try:
        await infra.migrate(db_url)
        env = {
            "CONVEYOR_ENV": "prod", "CONVEYOR_DATABASE_URL": db_url,
            "CONVEYOR_AMQP_URL": rabbitmq_nodes.urls(brokers, VHOST),
            "CONVEYOR_S3_ENDPOINT": endpoint.endpoint,
            "CONVEYOR_S3_ACCESS_KEY": endpoint.access_key,
            "CONVEYOR_S3_SECRET_KEY": endpoint.secret_key,
            "CONVEYOR_S3_BUCKET": endpoint.bucket, "CONVEYOR_S3_SECURE": "0", **FAST,
        }
        cluster = Cluster(env, workdir)
        soak = SoakEnv(cluster, env, brokers, postgres, s3, {}, workdir)
        for name, count in SERVICES:
            soak.handles[name] = []
            for index in range(count):
                handle = await cluster.start(name, CONVEYOR_INSTANCE_NAME=f"{name}-{index + 1}")
                if name != "gateway":
                    await _wait_ready(handle)
                soak.handles[name].append(handle)
        soak.tokens = {t: await create_user(env, t, "soaker") for t in TENANTS}
        yield soak
    finally:
        if cluster is not None:
            await cluster.stop_all()
        with contextlib.suppress(ProcessLookupError):
            s3.send_signal(signal.SIGCONT)
            s3.kill()
        await asyncio.to_thread(rabbitmq_nodes.stop, workdir / "rabbitmq")
        await asyncio.to_thread(postgres.stop)


__all__ = ["SoakEnv", "rabbitmq_nodes", "soak_env"]
