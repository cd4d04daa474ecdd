"""The workers the console tests need beyond echo: docrender (PDF, and a local batch server),
slides (local Pillow renderer) and the ingester (embeddings from a stand-in API). Started at
once without waiting, so they boot while the first console tests run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.e2e.conftest import Stack
from tests.e2e.console_support import FakeEmbeddings
from tests.harness.cluster import ServiceHandle

SERVER = "console-docsrv"  # the docrender instance's name: it registers as a local server


class Workers:
    def __init__(self, stack: Stack, handles: dict[str, ServiceHandle]) -> None:
        self.stack = stack
        self.handles = handles
        self.server = SERVER
        self._ready: dict[str, asyncio.Task[None]] = {}

    async def _ready_once(self, name: str) -> None:
        if name not in self._ready:
            self._ready[name] = asyncio.ensure_future(
                self.stack.cluster.wait_for_log(self.handles[name], "worker.ready"))
        await self._ready[name]

    async def docrender_ready(self) -> None:
        await self._ready_once("docrender")
        await asyncio.sleep(1.0)  # the registry sees its PDF capability on the next heartbeat

    async def slides_ready(self) -> None:
        await self._ready_once("slides")

    async def ingester_ready(self) -> None:
        await self._ready_once("ingester")


async def start_workers(stack: Stack) -> AsyncIterator[Workers]:
    embeddings = FakeEmbeddings()
    embeddings.start()
    cluster = stack.cluster
    small = {"CONVEYOR_DB_POOL_SIZE": "3"}  # PostgreSQL's connections are shared on this machine
    handles = {
        "docrender": await cluster.start("docrender", wait=False, CONVEYOR_INSTANCE_NAME=SERVER,
                                         CONVEYOR_DOCRENDER_OFFICE_INSTANCES="1", **small),
        "slides": await cluster.start("slides", wait=False, CONVEYOR_SLIDES_RENDER_PROCESSES="1",
                                      **small),
        "ingester": await cluster.start("ingester", wait=False,
                                        CONVEYOR_INGESTER_EMBEDDING_PROVIDER="http",
                                        CONVEYOR_INGESTER_EMBEDDING_URL=embeddings.base_url,
                                        **small),
    }
    try:
        yield Workers(stack, handles)
    finally:
        for handle in handles.values():
            await cluster.kill(handle, group=True)
        embeddings.stop()
