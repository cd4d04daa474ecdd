"""`make up` (scripts/cluster.py up) returns only when every process it started is ready, and
SCALE starts several instances of a service. Runs the real script against this test's own
database, vhost, S3 bucket, ports and run directory (never the developer's .run/)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.harness import S3Endpoint, free_port, infra
from tests.harness.infra import ROOT, clean_environ, run

SCRIPT = str(ROOT / "scripts" / "cluster.py")


@pytest.fixture
async def own_env(run_id: str, s3: S3Endpoint, tmp_path: Path) -> dict[str, str]:
    name = f"conveyor_test_{run_id}_up"
    url = await infra.create_database(name)
    await infra.migrate(url)
    vhost = f"conveyor-test-{run_id}-up"
    amqp = await infra.create_vhost(vhost)
    yield {**clean_environ(), "CONVEYOR_DATABASE_URL": url, "CONVEYOR_AMQP_URL": amqp,
           "CONVEYOR_S3_ENDPOINT": s3.endpoint, "CONVEYOR_S3_BUCKET": s3.bucket,
           "CONVEYOR_GATEWAY_PORT": str(free_port()),
           "CONVEYOR_METRICS_PORT_BASE": str(free_port()),
           "CONVEYOR_RUN_DIR": str(tmp_path / "run"), "CONVEYOR_ENV": "prod",
           "CONVEYOR_HEARTBEAT_INTERVAL_S": "0.5",
           "SCALE": "echo=2 gateway=2 docrender=0 slides=0 codegen=0 ingester=0 "
                    "remote_reference=0"}
    await infra.delete_vhost(vhost)
    await infra.drop_database(name)


async def test_up_returns_when_every_process_is_ready(own_env: dict[str, str]) -> None:
    try:
        out = await run(sys.executable, SCRIPT, "up", env=own_env)
        assert "Conveyor is up" in out
        status = await run(sys.executable, SCRIPT, "status", env=own_env)
        rows = [line.split() for line in status.splitlines()[2:]]
        names = sorted(row[0] for row in rows)
        assert names == ["echo-1", "echo-2", "gateway-1", "gateway-2", "registry", "scheduler"]
        async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
            for row in rows:  # ready at the moment `up` returned: nothing still starting
                probe = f"http://{row[4]}"
                assert (await client.get(f"{probe}/readyz")).status_code == 200, row
            port = int(own_env["CONVEYOR_GATEWAY_PORT"])
            for gateway in (port, port + 1):
                health = await client.get(f"http://127.0.0.1:{gateway}/api/v2/health")
                assert health.status_code == 200, health.text
                assert health.json()["status"] == "healthy", health.text
                assert health.json()["services"]["echo"] == "running"
    finally:
        await run(sys.executable, SCRIPT, "down", env=own_env)
