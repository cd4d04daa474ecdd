"""Fair share between tenants: a small task of one tenant while another floods the same kind,
and two flooding tenants with weights 3:1; each next to the first-come-first-served baseline
(the same code with CONVEYOR_SCHEDULER_FAIR_SHARE=0), in the same run.

- echo, 1 s items: 8 tasks x 4,000 items of one tenant (windows of 2,000) against another
  tenant's 20-item task (the small task's time alone, with the flood, and the bar: 1.5x
  alone + 1 s);
- docx (bench/fairness_docs.py): 20,000 rows against 20 rows (1.5x alone + 1 s); PDF 2,000
  rows against 10 (1.5x alone + 2 s); 12 CPU-heavy rows against 1 row (one heavy row + 2 s);
- echo, weights 3:1: two tenants flooding; items each completed over the same minute.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.stack import isolated_stack
from tests.harness import create_user
from tests.harness.infra import clean_environ
from tests.harness.infra import run as run_process

FLOOD_TASKS, FLOOD_ITEMS, SMALL_ITEMS, ITEM_MS = 8, 4_000, 20, 1_000
# The flood asks for the kind's largest window: first come, first served, every window is in
# the broker's queue ahead of whatever comes next.
FLOOD_WINDOW = 2_000
# Enough that both tenants still flood when the measured minute ends (the heavier one runs
# out first).
WEIGHT_ITEMS = 10_000
WEIGHT_WINDOW_S = float(os.environ.get("BENCH_FAIRNESS_WEIGHT_WINDOW_S", "30"))
FINISHED = ("completed", "partial_success", "failed", "cancelled")


class Client:
    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=120,
                                      headers={"Authorization": f"Bearer {token}"})

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """As a client should: a 503 (the shared database out of connections) is retried after
        its Retry-After, for up to a minute."""
        deadline = time.monotonic() + 60
        while True:
            response = await self.http.request(method, path, **kwargs)
            if response.status_code != 503 or time.monotonic() > deadline:
                response.raise_for_status()
                return response
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))

    async def echo(self, items: int, *, concurrency: int = 200, sleep_ms: int = ITEM_MS) -> str:
        body = {"kind": "echo", "concurrency": concurrency,
                "items": [{"value": i, "sleep_ms": sleep_ms} for i in range(items)]}
        response = await self._send("POST", "/api/v1/tasks", json=body)
        return str(response.json()["data"]["taskId"])

    async def task(self, task_id: str) -> dict[str, Any]:
        response = await self._send("GET", f"/api/v1/tasks/{task_id}")
        return dict(response.json()["data"])

    async def wait(self, task_id: str, timeout_s: float = 900) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while (task := await self.task(task_id))["status"] not in FINISHED:
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} unfinished: {task}")
            await asyncio.sleep(0.05)
        return task

    async def cancel(self, task_ids: list[str]) -> None:
        """Cancel what is still unfinished (a task that already ended answers 400)."""
        for task_id in task_ids:
            if (await self.task(task_id))["status"] not in FINISHED:
                response = await self.http.post(f"/api/v1/tasks/{task_id}/cancel")
                if response.status_code not in (200, 400):
                    response.raise_for_status()

    async def completed(self, task_ids: list[str]) -> int:
        return sum(t["completedItems"] for t in
                   await asyncio.gather(*(self.task(task_id) for task_id in task_ids)))

    async def close(self) -> None:
        await self.http.aclose()


async def timed(create: Callable[[], Awaitable[str]], client: Client) -> float:
    started = time.perf_counter()
    task = await client.wait(await create())
    assert task["status"] == "completed", task
    return time.perf_counter() - started


async def _patiently(call: Callable[[], Awaitable[str]]) -> str:
    """The CLI again while the shared PostgreSQL has no connection to spare (a minute)."""
    for _ in range(30):
        try:
            return await call()
        except RuntimeError as exc:
            if "too many clients" not in str(exc):
                raise
            await asyncio.sleep(2)
    return await call()


async def user_token(env: dict[str, str], tenant: str, user: str) -> str:
    return await _patiently(lambda: create_user(env, tenant, user))


async def set_limits(env: dict[str, str], tenant: str, **limits: int) -> None:
    argv = [sys.executable, "-m", "services.gateway.cli", "set-limits", "--tenant", tenant]
    for name, value in limits.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    await _patiently(lambda: run_process(*argv, env={**clean_environ(), **env}))


async def _wait_running(client: Client, task_ids: list[str]) -> None:
    """Until every flood task runs with items in flight: the flood holds the workers."""
    while True:
        tasks = await asyncio.gather(*(client.task(t) for t in task_ids))
        if sum(t["inflightItems"] for t in tasks) > 0 and all(
                t["status"] == "running" for t in tasks):
            return
        await asyncio.sleep(0.1)


async def echo_flood(url: str, env: dict[str, str]) -> dict[str, float]:
    flood = Client(url, await user_token(env, "flood", "fran"))
    small = Client(url, await user_token(env, "small", "sam"))
    try:
        await timed(lambda: small.echo(SMALL_ITEMS), small)  # warm-up
        alone = await timed(lambda: small.echo(SMALL_ITEMS), small)
        flood_ids = [await flood.echo(FLOOD_ITEMS, concurrency=FLOOD_WINDOW)
                     for _ in range(FLOOD_TASKS)]
        await _wait_running(flood, flood_ids)
        await asyncio.sleep(2)  # the flood's windows are full and its queue is as long as it gets
        contended = await timed(lambda: small.echo(SMALL_ITEMS), small)
        await flood.cancel(flood_ids)
        for task_id in flood_ids:
            await flood.wait(task_id)
    finally:
        await flood.close()
        await small.close()
    return {"alone_s": alone, "contended_s": contended}


async def weights(url: str, env: dict[str, str]) -> dict[str, float]:
    heavy = Client(url, await user_token(env, "weighted3", "hana"))
    light = Client(url, await user_token(env, "weighted1", "lee"))
    await set_limits(env, "weighted3", weight=3)
    try:
        # Each tenant alone would fill the workers: 4 windows of 400 items of 200 ms.
        ids = {name: [await client.echo(WEIGHT_ITEMS, concurrency=400, sleep_ms=200)
                      for _ in range(4)]
               for name, client in (("heavy", heavy), ("light", light))}
        await _wait_running(heavy, ids["heavy"])
        await _wait_running(light, ids["light"])
        await asyncio.sleep(2)
        before = {"heavy": await heavy.completed(ids["heavy"]),
                  "light": await light.completed(ids["light"])}
        await asyncio.sleep(WEIGHT_WINDOW_S)
        after = {"heavy": await heavy.completed(ids["heavy"]),
                 "light": await light.completed(ids["light"])}
        await heavy.cancel(ids["heavy"])
        await light.cancel(ids["light"])
    finally:
        await heavy.close()
        await light.close()
    per_min = {name: (after[name] - before[name]) * 60 / WEIGHT_WINDOW_S for name in after}
    return {"heavy_items_per_min": per_min["heavy"], "light_items_per_min": per_min["light"],
            "ratio": per_min["heavy"] / max(1.0, per_min["light"])}


async def _echo_mode(fair: bool) -> dict[str, dict[str, float]]:
    # Small pools: the machine's PostgreSQL is shared and has a connection limit.
    env = {"CONVEYOR_SCHEDULER_FAIR_SHARE": "1" if fair else "0", "CONVEYOR_DB_POOL_SIZE": "4"}
    mode = "fair share" if fair else "first come first served"
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"], env) as (
            cluster, url, _):
        await asyncio.sleep(1.5)  # the registry has the echo worker's first heartbeat
        flood = await echo_flood(url, cluster.env)
        print(f"  [{mode}] echo flood: small task alone {flood['alone_s']:.2f}s, beside the "
              f"flood {flood['contended_s']:.2f}s", flush=True)
        weighted = await weights(url, cluster.env)
        print(f"  [{mode}] weights 3:1: {weighted['heavy_items_per_min']:,.0f} vs "
              f"{weighted['light_items_per_min']:,.0f} items/min", flush=True)
        return {"echo_flood": flood, "weights": weighted}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def run() -> dict[str, float]:
    modes = {"fair": await _echo_mode(True), "fcfs": await _echo_mode(False)}
    figures: dict[str, float] = {}
    for mode, found in modes.items():
        for scenario, values in found.items():
            for key, value in values.items():
                figures[f"{scenario}_{key}_{mode}"] = value
    flood = modes["fair"]["echo_flood"]
    bar = 1.5 * flood["alone_s"] + 1
    print(f"echo flood ({FLOOD_TASKS} x {FLOOD_ITEMS:,} 1-s items vs a {SMALL_ITEMS}-item task of "
          f"another tenant): alone {flood['alone_s']:.2f}s; with the flood: fair share "
          f"{flood['contended_s']:.2f}s, first come first served "
          f"{modes['fcfs']['echo_flood']['contended_s']:.2f}s; bar {bar:.2f}s: "
          f"{_verdict(flood['contended_s'] <= bar)}")
    fair, fcfs = modes["fair"]["weights"], modes["fcfs"]["weights"]
    print(f"weights 3:1 (two tenants flooding, {WEIGHT_WINDOW_S:.0f}s): fair share "
          f"{fair['heavy_items_per_min']:,.0f} vs {fair['light_items_per_min']:,.0f} items/min "
          f"= {fair['ratio']:.2f}:1; first come first served {fcfs['ratio']:.2f}:1; bar 3:1 "
          f"± 10%: {_verdict(2.7 <= fair['ratio'] <= 3.3)}")
    return figures


if __name__ == "__main__":
    import uvloop

    uvloop.run(run())
