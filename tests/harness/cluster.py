"""Services as real processes for integration and fault tests (`sys.executable -m services.X`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness.infra import ROOT, clean_environ, free_port, run
from tests.harness.processes import group_members

# Limits with a diagnosis (the services' output) on failure; wrap a call in asyncio.timeout()
# for a tighter one.
HEALTHY_WITHIN_S = 30.0
LOG_WITHIN_S = 30.0
EXIT_WITHIN_S = 15.0


@dataclass
class ServiceHandle:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    overrides: dict[str, str] = field(default_factory=dict)  # what restart() starts it with
    port: int | None = None  # the gateway's HTTP port
    metrics_port: int | None = None  # the probe/metrics endpoint

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        if self.port is None:
            raise AttributeError(f"{self.name} serves no HTTP")
        return f"http://127.0.0.1:{self.port}"

    @property
    def probe_url(self) -> str:
        """Where /metrics, /livez and /readyz answer (the gateway's public port answers the
        probes but not /metrics)."""
        if self.metrics_port is None:
            return self.url
        return f"http://127.0.0.1:{self.metrics_port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            with self.log.open(errors="replace") as f:
                return "".join(deque(f, maxlen=lines))
        except OSError:
            return ""


class Cluster:
    """Starts services with the run's env; each process's output goes to its own file."""

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        self.env: dict[str, str] = {**clean_environ(), **env}
        self.workdir = workdir
        self.handles: list[ServiceHandle] = []

    @property
    def gateway(self) -> ServiceHandle:
        """The gateway started last."""
        for handle in reversed(self.handles):
            if handle.name == "gateway":
                return handle
        raise LookupError("no gateway started")

    async def start(self, name: str, *, wait: bool = True, **overrides: str) -> ServiceHandle:
        """Start `services.<name>` with the run's env plus `overrides` (e.g.
        CONVEYOR_INSTANCE_NAME); a gateway gets a free port and, if wait, must turn healthy."""
        return await self._start(name, overrides, wait)

    async def restart(self, handle: ServiceHandle, **overrides: str) -> ServiceHandle:
        """Start the same service again with the same overrides (a gateway keeps its port)."""
        return await self._start(handle.name, {**handle.overrides, **overrides}, wait=True)

    async def _start(self, name: str, overrides: dict[str, str], wait: bool) -> ServiceHandle:
        port = metrics_port = None
        if name == "gateway":
            port = int(overrides.setdefault("CONVEYOR_GATEWAY_PORT", str(free_port())))
        metrics_port = int(overrides.setdefault("CONVEYOR_METRICS_PORT", str(free_port())))
        index = sum(h.name == name for h in self.handles)
        log = self.workdir / f"{name}-{index}.log"
        with log.open("wb") as out:
            # Popen returns at once, and a Popen handle works from any event loop.
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", f"services.{name}"], cwd=ROOT, env={**self.env, **overrides},
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)  # own group: stop_all() reaches whatever it spawns
        handle = ServiceHandle(name, process, log, dict(overrides), port, metrics_port)
        self.handles.append(handle)
        if wait and port is not None:
            await self.wait_healthy(handle)
        return handle

    async def wait_healthy(self, handle: ServiceHandle) -> None:
        await self._wait_ok(handle, handle.url, "/api/v2/health", HEALTHY_WITHIN_S, "healthy")

    async def wait_ready(self, handle: ServiceHandle, within_s: float = HEALTHY_WITHIN_S) -> None:
        """Wait until the process's /readyz answers 200 (its dependencies all answer)."""
        await self._wait_ok(handle, handle.probe_url, "/readyz", within_s, "ready")

    async def _wait_ok(self, handle: ServiceHandle, base_url: str, path: str, within_s: float,
                       what: str) -> None:
        """Until `path` answers 200, while the process runs."""
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(base_url=base_url, timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline and handle.running():
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(path)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        state = "running" if handle.running() else f"exited {handle.process.returncode}"
        raise RuntimeError(f"{handle.name} did not turn {what} ({state})\n{self.tails()}")

    async def wait_for_log(self, handle: ServiceHandle, text: str) -> None:
        """Wait until the process's output contains `text` (e.g. a readiness event name)."""
        deadline = time.monotonic() + LOG_WITHIN_S
        while text not in handle.log.read_text(errors="replace"):
            if time.monotonic() > deadline or not handle.running():
                raise RuntimeError(f"{handle.name} never logged {text!r}\n{self.tails()}")
            await asyncio.sleep(0.1)

    async def kill(self, handle: ServiceHandle, sig: int = signal.SIGTERM, *,
                   group: bool = False) -> int:
        """Signal the process (SIGKILL for a crash; group=True for its children too) and
        return its exit code once it is gone (negative: killed by that signal)."""
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(handle.pid, sig)
            else:
                handle.process.send_signal(sig)
        try:
            return await asyncio.to_thread(handle.process.wait, EXIT_WITHIN_S)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"{handle.name} still running {EXIT_WITHIN_S}s after signal {sig}") from None

    async def stop_all(self) -> None:
        """SIGTERM every process group, SIGKILL what is left after the grace. Groups whose
        leader was killed earlier are signalled too: whatever it started must not outlive the
        run."""
        live = [h for h in self.handles if h.running()]
        marker = f"CONVEYOR_DATABASE_URL={self.env.get('CONVEYOR_DATABASE_URL', '')}"
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for h in self.handles:
                if h.running() or group_members(h.pid, marker):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(h.pid, sig)
            await asyncio.gather(*(asyncio.to_thread(_wait, h.process) for h in live))
            live = [h for h in live if h.running()]

    def tails(self, lines: int = 40) -> str:
        return "".join(f"--- {h.log.name} (pid {h.pid}{'' if h.running() else ', exited'})\n"
                       f"{h.tail(lines)}" for h in self.handles)


def _wait(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(EXIT_WITHIN_S)


async def create_user(env: Mapping[str, str], tenant: str = "test", user: str = "test",
                      admin: bool = False) -> str:
    """Create a user with the gateway CLI against the run's database; returns its token."""
    argv = [sys.executable, "-m", "services.gateway.cli", "create-user",
            "--tenant", tenant, "--user", user, *(["--admin"] if admin else [])]
    out = await run(*argv, env={**clean_environ(), **env})
    return out.strip().splitlines()[-1].strip()
