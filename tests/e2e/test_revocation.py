"""A revoked token stops working within a second on every gateway, and its open WebSocket and
SSE streams are closed (the CLI announces the revocation on the internal auth exchange)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import httpx
import websockets

from tests.e2e.conftest import Api, Stack
from tests.harness.infra import clean_environ, run

WITHIN_S = 1.0


async def _sse_lines(api: Api, path: str, lines: list[str], started: asyncio.Event) -> None:
    async with api.http.stream("GET", path, timeout=None) as response:
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith("data:"):
                started.set()


async def test_revocation_bites_within_a_second_everywhere(stack: Stack) -> None:
    other = await stack.cluster.start("gateway")  # a second gateway with its own cache
    try:
        bob = await stack.user("acme", "bob")
        assert bob.token
        via_other = Api(other.url, bob.token)
        task = await bob.create_echo([{"value": 1}], autoStart=False)  # stays pending: open streams
        for api in (bob, via_other):  # both caches now hold the token as valid
            assert (await api.http.get("/api/v1/tasks")).status_code == 200
        sockets = [await websockets.connect(api.ws_url()) for api in (bob, via_other)]
        sse: list[str] = []
        started = asyncio.Event()
        reader = asyncio.create_task(_sse_lines(bob, f"/api/v1/tasks/{task['taskId']}/events",
                                                sse, started))
        await asyncio.wait_for(started.wait(), 30)

        await run(sys.executable, "-m", "services.gateway.cli", "revoke-token", bob.token,
                  env={**clean_environ(), **stack.env})
        revoked_at = time.monotonic()

        for api in (bob, via_other):
            while (await api.http.get("/api/v1/tasks")).status_code != 401:
                assert time.monotonic() - revoked_at < WITHIN_S, "still accepted"
                await asyncio.sleep(0.02)
        for socket in sockets:
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:  # whatever was queued, then the TOKEN_REVOKED error, then close
                    last = await asyncio.wait_for(socket.recv(), WITHIN_S)
            assert socket.close_code == 4401 and "TOKEN_REVOKED" in last
        await asyncio.wait_for(reader, WITHIN_S)  # the SSE response ended
        assert "TOKEN_REVOKED" in sse[-2] or "TOKEN_REVOKED" in "".join(sse)
        assert time.monotonic() - revoked_at < 3 * WITHIN_S
        with contextlib.suppress(httpx.HTTPError):
            assert (await via_other.http.get("/api/v1/tasks")).status_code == 401
    finally:
        await stack.cluster.kill(other)
        stack.cluster.handles.remove(other)  # later tests use the first gateway again
