"""A small keep-alive HTTP/1.1 load generator on raw asyncio streams: a few microseconds of
client CPU per request (httpx spends ~1 ms), so on a shared 2-core machine the measurement is
of the server, not of the client. GET only; Content-Length bodies (what our servers send)."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self._host, self._port = host, port
        self._extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n{self._extra}\r\n"
                           .encode())
        status_line = await self._reader.readline()
        length, close = 0, False
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        await self._reader.readexactly(length)
        if close:
            await self.close()
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _split(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
    return host, int(port or 80)


async def closed_loop(url: str, paths: Sequence[str], headers: dict[str, str], *,
                      connections: int, seconds: float) -> Results:
    """`connections` clients each sending the next request when the last answered."""
    host, port = _split(url)
    results = Results()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(host, port, headers)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status = await conn.get(random.choice(paths))
            except (OSError, asyncio.IncompleteReadError):
                results.errors += 1
                await conn.close()
                continue
            if status == 200:
                results.latencies.append(time.perf_counter() - started)
            else:
                results.errors += 1
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    results.seconds = time.perf_counter() - started
    return results


async def open_loop(url: str, paths: Sequence[str], headers: dict[str, str], *,
                    rate: float, seconds: float, connections: int = 32) -> Results:
    """Requests at a fixed rate whatever the answers do (latency includes any queueing), over a
    pool of keep-alive connections."""
    host, port = _split(url)
    results = Results()
    # What exists now lives through the run: out of the collector's sight, a full collection
    # of this process cannot stall it for tens of milliseconds and show as server latency.
    gc.collect()
    gc.freeze()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port, headers))

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        try:
            status = await conn.get(random.choice(paths))
        except (OSError, asyncio.IncompleteReadError):
            results.errors += 1
            await conn.close()
            return
        finally:
            pool.put_nowait(conn)
        if status == 200:
            results.latencies.append(time.perf_counter() - scheduled)
        else:
            results.errors += 1

    started = time.perf_counter()
    pending: list[asyncio.Task[None]] = []
    count = int(rate * seconds)
    for i in range(count):
        scheduled = started + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        pending.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*pending)
    results.seconds = time.perf_counter() - started
    while not pool.empty():
        await pool.get_nowait().close()
    return results
