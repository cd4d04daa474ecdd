"""The probe and metrics endpoint of every process (the gateway's too: its public port serves
no metrics): `GET /metrics`, `GET /livez`, `GET /readyz` on `CONVEYOR_<SERVICE>_METRICS_PORT`.

Deliberately tiny (one request per connection, GET only, no body): it serves Prometheus and
orchestrator probes, never users, and must not pull a web framework into every worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec

from libs.logging import get_logger
from libs.observability import metrics
from libs.observability.probes import PROBES, Probes

log = get_logger(__name__)

MAX_REQUEST_LINE = 2048
READ_TIMEOUT_S = 5.0


async def probe_response(path: str, probes: Probes = PROBES) -> tuple[int, bytes, bytes]:
    """(status, content type, body) for a probe path; the gateway serves the same answers."""
    if path == "/metrics":
        await probes.readiness()  # conveyor_ready and conveyor_dependency_up current (cached)
        return 200, metrics.CONTENT_TYPE_LATEST.encode(), metrics.exposition()
    if path == "/livez":
        return 200, b"application/json", b'{"status":"ok"}'
    if path == "/readyz":
        state = await probes.readiness()
        body = msgspec.json.encode({"status": "ready" if state.ready else "not_ready",
                                    "checks": state.checks})
        return (200 if state.ready else 503), b"application/json", body
    return 404, b"application/json", b'{"status":"not_found"}'


_REASONS = {200: b"OK", 404: b"Not Found", 405: b"Method Not Allowed", 503: b"Service Unavailable"}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            request_line = await reader.readline()
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                if len(line) > MAX_REQUEST_LINE:
                    return
        parts = request_line[:MAX_REQUEST_LINE].decode("latin-1").split()
        if len(parts) < 2:
            return
        method, target = parts[0], parts[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            status, ctype, body = 405, b"text/plain", b""
        else:
            status, ctype, body = await probe_response(target)
        head = (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n" % (status, _REASONS[status], ctype, len(body)))
        writer.write(head + (body if method == "GET" else b""))
        await writer.drain()
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class Endpoint:
    def __init__(self, server: asyncio.Server) -> None:
        self._server = server

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()


async def serve(host: str, port: int, *, reuse_port: bool = False) -> Endpoint:
    """Listen on host:port (port 0: any free one). A taken port fails the start, loudly:
    a process that cannot be probed must not look healthy. `reuse_port`: several processes
    of one service share the port (the gateway's workers; the kernel spreads the scrapes)."""
    server = await asyncio.start_server(_handle, host, port, limit=MAX_REQUEST_LINE * 2,
                                        reuse_port=reuse_port or None)
    endpoint = Endpoint(server)
    log.info("observability.listening", host=host, port=endpoint.port)
    return endpoint


@contextlib.asynccontextmanager
async def serving(host: str, port: int, *, reuse_port: bool = False) -> AsyncIterator[None]:
    """The endpoint for the block's duration; none when `port` is 0."""
    if not port:
        yield
        return
    endpoint = await serve(host, port, reuse_port=reuse_port)
    try:
        yield
    finally:
        await endpoint.close()
