"""A docrender for the tests that need one, started and stopped in one place. With LibreOffice
it is ready only once the registry lists it as PDF-capable (the gateway refuses PDF batches
until then): that is polled for, not slept for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from sqlalchemy import text

from libs.db.engine import create_engine
from tests.harness.cluster import Cluster, ServiceHandle

PDF_ANNOUNCED_WITHIN_S = 30


async def wait_pdf_capable(cluster: Cluster, handle: ServiceHandle) -> None:
    """Until an online docrender instance advertises the pdf format to the registry."""
    db = create_engine(cluster.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    deadline = time.monotonic() + PDF_ANNOUNCED_WITHIN_S
    try:
        while True:
            async with db.connect() as conn:
                if await conn.scalar(text(
                        """SELECT EXISTS (SELECT 1 FROM instances WHERE service = 'docrender'
                        AND status = 'online' AND capabilities -> 'formats' ? 'pdf')""")):
                    return
            assert handle.running(), f"docrender exited:\n{handle.tail()}"
            assert time.monotonic() < deadline, "the registry never saw a PDF-capable docrender"
            await asyncio.sleep(0.1)
    finally:
        await db.dispose()


async def start_docrender(cluster: Cluster, *, pdf: bool, **overrides: str) -> ServiceHandle:
    """A docrender, with one LibreOffice instance if `pdf` (none otherwise: DOCX only)."""
    handle = await cluster.start("docrender",
                                 CONVEYOR_DOCRENDER_OFFICE_INSTANCES="1" if pdf else "0",
                                 **overrides)
    await cluster.wait_for_log(handle, "worker.ready")
    if pdf:
        await wait_pdf_capable(cluster, handle)
    return handle


@contextlib.asynccontextmanager
async def running_docrender(cluster: Cluster, *, pdf: bool) -> AsyncIterator[ServiceHandle]:
    """`start_docrender`, stopped afterwards: a renderer left running would take later
    modules' items (a DOCX-only one their PDF rows)."""
    handle = await start_docrender(cluster, pdf=pdf)
    try:
        yield handle
    finally:
        await cluster.kill(handle)
