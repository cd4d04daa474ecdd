"""The soak's faults: every 20-60 s one starts, whether or not the last has ended, so they
overlap at times. After each ends, the recovery time is how long until a one-item echo task
submitted then completes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench.soak.env import SoakEnv, rabbitmq_nodes
from tests.harness.cluster import ServiceHandle

KINDS = ("kill", "broker", "postgres", "s3", "freeze")
BROKER_DOWN_S = 30.0
FREEZE_S = (15.0, 25.0)  # longer than the soak's 10 s item timeout: the lease expires
S3_PAUSE_S = (10.0, 20.0)
RECOVERY_LIMIT_S = 180.0


@dataclass
class Fault:
    kind: str
    target: str
    started: float
    ended: float | None = None
    recovered_s: float | None = None  # None: never recovered within the limit
    error: str | None = None  # why the fault could not be injected as meant


class Faults:
    def __init__(self, soak: SoakEnv, kinds: tuple[str, ...], rng: random.Random) -> None:
        self.soak = soak
        self.kinds = kinds
        self.rng = rng
        self.log: list[Fault] = []
        self._busy: set[str] = set()  # targets under a fault now
        self._tasks: set[asyncio.Task[None]] = set()
        self._probe = httpx.AsyncClient(
            base_url=soak.gateway_url, timeout=30,
            headers={"Authorization": f"Bearer {next(iter(soak.tokens.values()))}"})

    async def run(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.rng.uniform(5, 15))  # the load gets going first
        while loop.time() < until:
            if (chosen := self._choose()) is not None:
                task = asyncio.create_task(self._inject(*chosen))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await asyncio.sleep(self.rng.uniform(20, 60))
        await asyncio.gather(*self._tasks)
        await self._probe.aclose()

    def _choose(self) -> tuple[str, str, Callable[[], Awaitable[None]]] | None:
        for kind in self.rng.sample(self.kinds, len(self.kinds)):
            made = getattr(self, f"_{kind}")()
            if made is not None:
                target, action = made
                return kind, target, action
        return None

    async def _inject(self, kind: str, target: str,
                      action: Callable[[], Awaitable[None]]) -> None:
        fault = Fault(kind, target, time.monotonic())
        self.log.append(fault)
        self._busy.add(target)
        try:
            await action()
        except (ProcessLookupError, RuntimeError, TimeoutError) as exc:
            fault.error = f"{type(exc).__name__}: {exc}"  # not injected as meant: reported
        finally:
            self._busy.discard(target)
            fault.ended = time.monotonic()
        fault.recovered_s = await self._recovery()

    async def _recovery(self) -> float | None:
        started = time.monotonic()
        deadline = started + RECOVERY_LIMIT_S
        task_id = None
        while time.monotonic() < deadline:
            try:
                if task_id is None:
                    response = await self._probe.post("/api/v1/tasks", json={
                        "kind": "echo", "items": [{"value": 0}]})
                    if response.status_code == 200:
                        task_id = response.json()["data"]["taskId"]
                else:
                    response = await self._probe.get(f"/api/v1/tasks/{task_id}")
                    if response.status_code == 200 and (
                            response.json()["data"]["status"] == "completed"):
                        return time.monotonic() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        return None

    def _instances(self) -> list[ServiceHandle]:
        return [h for group in self.soak.handles.values() for h in group if h.running()
                and h.overrides.get("CONVEYOR_INSTANCE_NAME", h.name) not in self._busy]

    def _kill(self) -> tuple[str, Callable[[], Awaitable[None]]] | None:
        candidates = self._instances()
        if not candidates:
            return None
        victim = self.rng.choice(candidates)
        name = victim.overrides.get("CONVEYOR_INSTANCE_NAME", victim.name)

        async def kill() -> None:
            await self.soak.cluster.kill(victim, signal.SIGKILL, group=True)
            await asyncio.sleep(self.rng.uniform(1, 5))  # an orchestrator's restart delay
            await self.soak.restart(victim)
        return name, kill

    def _broker(self) -> tuple[str, Callable[[], Awaitable[None]]] | None:
        # A quorum queue needs a majority: one node down at a time.
        if any(node.name in self._busy for node in self.soak.brokers):
            return None
        node = self.rng.choice(self.soak.brokers)

        async def stop_node() -> None:
            await asyncio.to_thread(rabbitmq_nodes.stop_node, node)
            await asyncio.sleep(BROKER_DOWN_S)
            await asyncio.to_thread(rabbitmq_nodes.start_node, node)
        return node.name, stop_node

    def _postgres(self) -> tuple[str, Callable[[], Awaitable[None]]] | None:
        if "postgres" in self._busy:
            return None
        return "postgres", lambda: asyncio.to_thread(self.soak.postgres.restart)

    def _s3(self) -> tuple[str, Callable[[], Awaitable[None]]] | None:
        if "s3" in self._busy:
            return None

        async def pause() -> None:
            self.soak.pause_s3()
            try:
                await asyncio.sleep(self.rng.uniform(*S3_PAUSE_S))
            finally:
                self.soak.resume_s3()
        return "s3", pause

    def _freeze(self) -> tuple[str, Callable[[], Awaitable[None]]] | None:
        workers = [h for h in self._instances() if h.name in ("echo", "docrender")]
        if not workers:
            return None
        victim = self.rng.choice(workers)

        async def freeze() -> None:
            os.killpg(victim.pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(self.rng.uniform(*FREEZE_S))
            finally:
                os.killpg(victim.pid, signal.SIGCONT)
        return victim.overrides.get("CONVEYOR_INSTANCE_NAME", victim.name), freeze
