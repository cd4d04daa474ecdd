"""Session fixtures: each test run gets its own database, RabbitMQ vhost and S3 endpoint.

Nothing connects at import time; each fixture creates its resource on first use and removes it
when the run ends. `env` holds the CONVEYOR_* variables of the run; `cluster` starts services
as processes with it (see tests/harness/cluster.py).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Generator, Iterator

import pytest
import pytest_asyncio

from tests.harness import Cluster, S3Endpoint, infra


@pytest.fixture(scope="session")
def run_id() -> str:
    return secrets.token_hex(4)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_database(run_id: str) -> AsyncIterator[str]:
    """URL of this run's own empty database (no migrations), dropped at the end."""
    name = f"conveyor_test_{run_id}"
    url = await infra.create_database(name)
    yield url
    await infra.drop_database(name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url(pg_database: str) -> str:
    """This run's database with every migration applied (`python -m libs.db.migrate`)."""
    await infra.migrate(pg_database)
    return pg_database


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def amqp_url(run_id: str) -> AsyncIterator[str]:
    """URL of this run's own RabbitMQ vhost, deleted at the end."""
    vhost = f"conveyor-test-{run_id}"
    url = await infra.create_vhost(vhost)
    yield url
    await infra.delete_vhost(vhost)


@pytest.fixture(scope="session")
def s3(run_id: str) -> Iterator[S3Endpoint]:
    """An in-process S3 endpoint (moto, signatures checked) with this run's bucket created."""
    server, endpoint = infra.start_s3(f"conveyor-test-{run_id}")
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def env(database_url: str, amqp_url: str, s3: S3Endpoint) -> dict[str, str]:
    """The run's CONVEYOR_* variables; shared by the session, so copy before changing."""
    return {
        "CONVEYOR_ENV": "prod",  # JSON logs, as deployed
        "CONVEYOR_DATABASE_URL": database_url,
        "CONVEYOR_AMQP_URL": amqp_url,
        "CONVEYOR_S3_ENDPOINT": s3.endpoint,
        "CONVEYOR_S3_ACCESS_KEY": s3.access_key,
        "CONVEYOR_S3_SECRET_KEY": s3.secret_key,
        "CONVEYOR_S3_SECURE": "0",
        "CONVEYOR_S3_BUCKET": s3.bucket,
        "CONVEYOR_GATEWAY_HOST": "127.0.0.1",
    }


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def cluster(
    env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """Starts services on demand (`await cluster.start("gateway")`); all stopped at the end."""
    harness = Cluster(env, tmp_path_factory.mktemp("cluster"))
    yield harness
    await harness.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used `cluster` shows the tail of every service's output."""
    report = yield
    harness = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and isinstance(harness, Cluster):
        report.sections.append(("service output (tails)", harness.tails()))
    return report
