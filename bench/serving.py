"""Serving: task-status reads through the gateway against a minimal Litestar app doing the same
SQL (bench/minimal_status.py), on the same machine and database in the same run; then the
gateway at 200 reads/s while 10 tasks/s are submitted (p50/p99, queueing included).

    .venv/bin/python -m bench.serving"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import asyncpg
import httpx
import uvloop

from bench.http_load import Results, closed_loop, open_loop
from bench.stack import isolated_stack
from tests.harness import free_port
from tests.harness.infra import ROOT

TASKS = 50
CONNECTIONS = 8
CLOSED_S = 10.0
OPEN_RATE, OPEN_S, SUBMIT_RATE = 200.0, 20.0, 10.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc: the machine is shared, so CPU per
    read is the figure that other engineers' load disturbs least)."""
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(pid: int, url: str, paths: list[str],
                   headers: dict[str, str]) -> tuple[Results, float]:
    """Closed-loop reads and the server's CPU milliseconds per read."""
    before = cpu_seconds(pid)
    results = await closed_loop(url, paths, headers, connections=CONNECTIONS, seconds=CLOSED_S)
    return results, (cpu_seconds(pid) - before) / max(1, len(results.latencies)) * 1000


def _line(name: str, r: Results) -> str:
    return (f"{name}: {r.rate:,.0f} reads/s, p50 {r.percentile(50) * 1000:.1f} ms, "
            f"p99 {r.percentile(99) * 1000:.1f} ms, errors {r.errors}")


async def _start_minimal(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, "-m", "bench.minimal_status"], cwd=ROOT,
        env={**os.environ, "CONVEYOR_DATABASE_URL": database_url, "PORT": str(port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(100):
            try:
                await client.get(f"{url}/schema")
                return process, url
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the minimal app did not start")


async def _submit(client: httpx.AsyncClient, stop: asyncio.Event) -> int:
    created = 0
    body = {"kind": "echo", "items": [{"value": i} for i in range(10)]}
    while not stop.is_set():
        started = time.perf_counter()
        (await client.post("/api/v1/tasks", json=body)).raise_for_status()
        created += 1
        await asyncio.sleep(max(0.0, 1 / SUBMIT_RATE - (time.perf_counter() - started)))
    return created


async def run() -> dict[str, float]:
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"]) as (
            cluster, url, token):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60,
                                     trust_env=False) as client:
            ids = [(await client.post("/api/v1/tasks", json={
                "kind": "echo", "items": [{"value": 1}]})).json()["data"]["taskId"]
                for _ in range(TASKS)]
            database_url = cluster.env["CONVEYOR_DATABASE_URL"]
            pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
            tenant = str(await pg.fetchval("SELECT tenant_id FROM users LIMIT 1"))  # the bench user
            await pg.close()
            minimal, minimal_url = await _start_minimal(database_url)
            try:
                gateway_paths = [f"/api/v1/tasks/{i}" for i in ids]
                minimal_paths = [f"/status/{tenant}/{i}" for i in ids]
                for paths, base in ((gateway_paths, url), (minimal_paths, minimal_url)):
                    await closed_loop(base, paths, headers, connections=CONNECTIONS,
                                      seconds=2)  # warm-up
                gateway, gateway_cpu = await measured(cluster.gateway.pid, url, gateway_paths,
                                                      headers)
                baseline, baseline_cpu = await measured(minimal.pid, minimal_url,
                                                        minimal_paths, {})
            finally:
                minimal.terminate()
                minimal.wait(10)
            stop = asyncio.Event()
            submitting = asyncio.create_task(_submit(client, stop))
            loaded = await open_loop(url, gateway_paths, headers, rate=OPEN_RATE,
                                     seconds=OPEN_S)
            stop.set()
            submitted = await submitting
    ratio = gateway.rate / baseline.rate
    print(_line(f"gateway, {CONNECTIONS} connections", gateway)
          + f", {gateway_cpu:.2f} ms CPU per read")
    print(_line("minimal Litestar + asyncpg, same SQL", baseline)
          + f", {baseline_cpu:.2f} ms CPU per read")
    print(f"ratio gateway/minimal: {ratio:.2f}")
    print(_line(f"gateway at {OPEN_RATE:.0f} reads/s with {submitted / OPEN_S:.1f} tasks/s "
                "submitted", loaded))
    return {"gateway_reads_per_s": gateway.rate, "minimal_reads_per_s": baseline.rate,
            "ratio": ratio, "gateway_cpu_ms": gateway_cpu, "minimal_cpu_ms": baseline_cpu,
            "loaded_p50_ms": loaded.percentile(50) * 1000,
            "loaded_p99_ms": loaded.percentile(99) * 1000}


if __name__ == "__main__":
    uvloop.run(run())
