"""Serving: task-status reads through the gateway against a minimal Litestar app doing the same
SQL (bench/minimal_status.py), on the same machine and database in the same run; then the
gateway at 200 reads/s while 10 tasks/s are submitted (p50/p99, queueing included).

    .venv/bin/python -m bench.serving"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from typing import NamedTuple

import asyncpg
import httpx
import uvloop

from bench.http_load import Results, closed_loop, open_loop
from bench.stack import isolated_stack
from tests.harness import free_port
from tests.harness.infra import ROOT

TASKS = 50
CONNECTIONS = 8
CLOSED_S, SLICES = 10.0, 5
OPEN_RATE, OPEN_S, SUBMIT_RATE = 200.0, 20.0, 10.0
# Processes of the gateway (CONVEYOR_GATEWAY_WORKERS) and of the minimal app in the second
# comparison; the first compares one process with one, as does the loaded phase.
WORKERS = int(os.environ.get("BENCH_SERVING_WORKERS", str(os.cpu_count() or 2)))


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and every process under it (a server's workers),
    from /proc: the machine is shared, so CPU per read is the figure that other engineers'
    load disturbs least."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry)] = int(_stat(int(entry))[1])
    tree, total = {pid}, 0.0
    for child in sorted(parents):  # children have larger pids than their parents, mostly:
        ancestor = parents[child]  # walk up instead of relying on it
        while ancestor > 1 and ancestor not in tree:
            ancestor = parents.get(ancestor, 0)
        if ancestor in tree:
            tree.add(child)
    for member in tree:
        with contextlib.suppress(OSError):
            fields = _stat(member)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Target(NamedTuple):
    pid: int
    url: str
    paths: list[str]
    headers: dict[str, str]


async def interleaved(*targets: Target) -> list[tuple[Results, float]]:
    """Closed-loop reads of each target in turns of CLOSED_S / SLICES seconds (so neighbours'
    load on a shared machine falls on both sides alike), and each server's CPU milliseconds
    per read."""
    totals = [(Results(), 0.0) for _ in targets]
    for _ in range(SLICES):
        for index, target in enumerate(targets):
            before = cpu_seconds(target.pid)
            part = await closed_loop(target.url, target.paths, target.headers,
                                     connections=CONNECTIONS, seconds=CLOSED_S / SLICES)
            results, cpu = totals[index]
            results.latencies += part.latencies
            results.errors += part.errors
            results.seconds += part.seconds
            totals[index] = (results, cpu + cpu_seconds(target.pid) - before)
    return [(r, cpu / max(1, len(r.latencies)) * 1000) for r, cpu in totals]


def _line(name: str, r: Results) -> str:
    return (f"{name}: {r.rate:,.0f} reads/s, p50 {r.percentile(50) * 1000:.1f} ms, "
            f"p90 {r.percentile(90) * 1000:.1f} ms, p99 {r.percentile(99) * 1000:.1f} ms, "
            f"errors {r.errors}")


async def _start_minimal(database_url: str,
                         workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, "-m", "bench.minimal_status"], cwd=ROOT,
        env={**os.environ, "CONVEYOR_DATABASE_URL": database_url, "PORT": str(port),
             "WORKERS": str(workers)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(300):
            try:
                await client.get(f"{url}/schema")
                return process, url
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the minimal app did not start")


async def _submit(client: httpx.AsyncClient, stop: asyncio.Event) -> float:
    """Echo tasks at SUBMIT_RATE, open loop: each on time whatever the last one's answer
    time (a slow answer must not lower the rate the reads are measured under). Returns the
    tasks created per second."""
    body = {"kind": "echo", "items": [{"value": i} for i in range(10)]}
    started, pending = time.perf_counter(), []
    while not stop.is_set():
        pending.append(asyncio.create_task(client.post("/api/v1/tasks", json=body)))
        await asyncio.sleep(max(0.0, started + len(pending) / SUBMIT_RATE - time.perf_counter()))
    elapsed = time.perf_counter() - started
    for response in await asyncio.gather(*pending):
        response.raise_for_status()
    return len(pending) / elapsed


async def _compare(processes: int, gateway: tuple[int, str], gateway_paths: list[str],
                   headers: dict[str, str], database_url: str,
                   minimal_paths: list[str]) -> dict[str, float]:
    """Closed-loop reads through the gateway and through the minimal app, in turns, both run
    as `processes` processes."""
    minimal, minimal_url = await _start_minimal(database_url, processes)
    try:
        for paths, base, extra in ((gateway_paths, gateway[1], headers),
                                   (minimal_paths, minimal_url, {})):
            await closed_loop(base, paths, extra, connections=CONNECTIONS, seconds=2)  # warm-up
        (ours, ours_cpu), (baseline, baseline_cpu) = await interleaved(
            Target(gateway[0], gateway[1], gateway_paths, headers),
            Target(minimal.pid, minimal_url, minimal_paths, {}))
    finally:
        minimal.terminate()
        minimal.wait(20)
    ratio = ours.rate / baseline.rate
    print(_line(f"gateway, {processes} process(es), {CONNECTIONS} connections", ours)
          + f", {ours_cpu:.2f} ms CPU per read")
    print(_line(f"minimal Litestar + asyncpg, same SQL, {processes} process(es)", baseline)
          + f", {baseline_cpu:.2f} ms CPU per read")
    print(f"ratio gateway/minimal with {processes} process(es) each: {ratio:.2f}")
    return {f"gateway_reads_per_s_{processes}p": ours.rate,
            f"minimal_reads_per_s_{processes}p": baseline.rate, f"ratio_{processes}p": ratio,
            f"gateway_cpu_ms_{processes}p": ours_cpu, f"minimal_cpu_ms_{processes}p": baseline_cpu}


async def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"]) as (
            cluster, url, token):
        single = cluster.gateway
        several = await cluster.start("gateway", CONVEYOR_GATEWAY_WORKERS=str(WORKERS))
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
        gateway_paths = [f"/api/v1/tasks/{i}" for i in ids]
        minimal_paths = [f"/status/{tenant}/{i}" for i in ids]
        for processes, handle in ((1, single), (WORKERS, several)):
            figures |= await _compare(processes, (handle.pid, handle.url), gateway_paths,
                                      headers, database_url, minimal_paths)
        # The loaded phase: the gateway as deployed by default (CONVEYOR_GATEWAY_WORKERS=1).
        # On these 2 vCPUs a second process costs more CPU per read than it buys (above).
        await cluster.kill(several)
        async with httpx.AsyncClient(base_url=single.url, headers=headers, timeout=60,
                                     trust_env=False) as client:
            stop = asyncio.Event()
            submitting = asyncio.create_task(_submit(client, stop))
            loaded = await open_loop(single.url, gateway_paths, headers, rate=OPEN_RATE,
                                     seconds=OPEN_S)
            stop.set()
            submitted = await submitting
    print(_line(f"gateway (1 process, the default) at {OPEN_RATE:.0f} reads/s with "
                f"{submitted:.1f} tasks/s submitted", loaded))
    return figures | {"loaded_p50_ms": loaded.percentile(50) * 1000,
                      "loaded_p99_ms": loaded.percentile(99) * 1000,
                      "submitted_per_s": submitted}


if __name__ == "__main__":
    uvloop.run(run())
