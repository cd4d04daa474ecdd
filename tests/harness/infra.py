"""Per-run infrastructure on the local PostgreSQL, RabbitMQ and an in-process S3 endpoint.

Every function connects only when called, so importing the harness touches nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from local_s3 import LocalS3

ROOT = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
AMQP_HOST, AMQP_PORT, AMQP_USER, AMQP_PASSWORD = "127.0.0.1", 5672, "guest", "guest"
S3_ACCESS_KEY, S3_SECRET_KEY = "conveyor", "conveyor-secret"
COMMAND_WITHIN_S = 120.0  # migrations, rabbitmqctl, the gateway CLI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def clean_environ() -> dict[str, str]:
    """os.environ without CONVEYOR_*: a developer's shell may carry the dev cluster's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}


async def run(*argv: str, env: dict[str, str] | None = None) -> str:
    """Run a command from the project root; its stdout, or RuntimeError with all its output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), COMMAND_WITHIN_S)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}:\n"
                           f"{out.decode(errors='replace')}{err.decode(errors='replace')}")
    return out.decode(errors="replace")


# --- PostgreSQL ---------------------------------------------------------------------------

def database_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def _on_server(statement: str) -> None:
    """One statement on the server's `postgres` database (CREATE/DROP DATABASE)."""
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(name: str) -> str:
    await _on_server(f'CREATE DATABASE "{name}"')
    return database_url(name)


async def drop_database(name: str) -> None:
    # FORCE: services a test left running may still hold connections.
    await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate(url: str) -> None:
    env = {**clean_environ(), "CONVEYOR_DATABASE_URL": url}
    await run(sys.executable, "-m", "libs.db.migrate", env=env)


# --- RabbitMQ -----------------------------------------------------------------------------

def amqp_url(vhost: str) -> str:
    return f"amqp://{AMQP_USER}:{AMQP_PASSWORD}@{AMQP_HOST}:{AMQP_PORT}/{vhost}"


async def create_vhost(vhost: str) -> str:
    await run("rabbitmqctl", "-q", "add_vhost", vhost)
    await run("rabbitmqctl", "-q", "set_permissions", "-p", vhost, AMQP_USER, ".*", ".*", ".*")
    return amqp_url(vhost)


async def delete_vhost(vhost: str) -> None:
    await run("rabbitmqctl", "-q", "delete_vhost", vhost)


async def _listening(host: str, port: int, what: str) -> None:
    """Until `host:port` accepts connections (a restarted server), or TimeoutError."""
    deadline = time.monotonic() + COMMAND_WITHIN_S
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not listen on {port} after its restart")
        await asyncio.sleep(0.2)


async def rabbitmq_restart() -> None:
    """Stop and start the broker application (connections drop, durable state stays)."""
    await run("rabbitmqctl", "-q", "stop_app")
    await run("rabbitmqctl", "-q", "start_app")
    await _listening(AMQP_HOST, AMQP_PORT, "RabbitMQ")


@contextlib.asynccontextmanager
async def rabbitmq_stopped() -> AsyncIterator[None]:
    """The broker application stopped for the block (keep it short: every test run on this
    machine shares the broker), started again and listening afterwards."""
    await run("rabbitmqctl", "-q", "stop_app")
    try:
        yield
    finally:
        await run("rabbitmqctl", "-q", "start_app")
        await _listening(AMQP_HOST, AMQP_PORT, "RabbitMQ")


async def postgres_restart() -> None:
    """Restart the PostgreSQL cluster (every connection drops; committed data stays)."""
    version = (await run("ls", "/etc/postgresql")).split()[0]
    await run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart",
              "-m", "fast")
    await _listening("127.0.0.1", 5432, "PostgreSQL")


# --- S3 -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class S3Endpoint:
    endpoint: str  # host:port, as CONVEYOR_S3_ENDPOINT
    access_key: str
    secret_key: str
    bucket: str


def start_s3(bucket: str) -> tuple[LocalS3, S3Endpoint]:
    """The local S3 endpoint (scripts/local_s3.py: moto behind a SigV4 check of every
    request) in this process, with `bucket` created."""
    from minio import Minio

    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    from local_s3 import LocalS3

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request
    port = free_port()
    server = LocalS3("127.0.0.1", port, S3_ACCESS_KEY, S3_SECRET_KEY)
    server.start()
    s3 = S3Endpoint(f"127.0.0.1:{port}", S3_ACCESS_KEY, S3_SECRET_KEY, bucket)
    Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=False).make_bucket(bucket)
    return server, s3
