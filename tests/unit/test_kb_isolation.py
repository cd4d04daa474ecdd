"""The extraction worker pool: jobs run in long-lived, limited processes; a worker that overran,
died, ran out of memory, served its quota or grew too big is replaced, and callers queue for a
free one. (The job functions are module-level: the workers import this module to run them.)"""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from services.ingester.chunker import Chunk
from services.ingester.extract import ExtractionError, Limits
from services.ingester.isolation import ExtractionPool, IsolatedFailure
from services.ingester.jobs import extract_job
from tests import kb_samples as samples

GIB = 1 << 30
TENANT = "acme"
CHUNKING = (200, 30, "")


def _pid() -> int:
    return os.getpid()


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _crash(code: int) -> None:
    os._exit(code)


def _fail() -> None:
    raise ValueError("bad input " + "x" * 1000)


def _meet(mine: str, theirs: str) -> int:
    """Leaves `mine` and waits for `theirs`: both return only if they run at the same time."""
    Path(mine).touch()
    deadline = time.monotonic() + 20
    while not Path(theirs).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(theirs)
        time.sleep(0.01)
    return os.getpid()


def _exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@asynccontextmanager
async def running_pool(workers: int = 1, **options: Any) -> AsyncIterator[ExtractionPool]:
    settings: dict[str, Any] = {"timeout_s": 60.0, "memory_bytes": GIB} | options
    pool = ExtractionPool(workers, **settings)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def test_extraction_returns_text_and_chunks_and_refusals() -> None:
    async with running_pool() as pool:
        data = samples.PANDA.encode()
        text, images, chunks = await pool.run(TENANT, extract_job, data, "txt", Limits(), True,
                                              CHUNKING)
        assert (text, images) == (samples.PANDA, [])
        assert chunks == [Chunk("", samples.PANDA.strip())]  # chunked in the same job
        with pytest.raises(ExtractionError, match="PDF转换失败"):
            await pool.run(TENANT, extract_job, b"junk", "pdf", Limits(), False, CHUNKING)
        with pytest.raises(IsolatedFailure, match=r"^ValueError: bad input x+$") as caught:
            await pool.run(TENANT, _fail)
        assert len(str(caught.value)) == 500


async def test_a_worker_serves_job_after_job() -> None:
    async with running_pool() as pool:
        [started] = pool.pids()
        assert await pool.run(TENANT, _pid) == await pool.run(TENANT, _pid) == started
        with pytest.raises(ExtractionError):  # a refusal keeps the worker
            await pool.run(TENANT, extract_job, b"junk", "pdf", Limits(), False, CHUNKING)
        assert await pool.run(TENANT, _pid) == started


async def test_a_job_over_the_deadline_is_killed_and_its_worker_replaced() -> None:
    async with running_pool(timeout_s=1.0) as pool:
        first = await pool.run(TENANT, _pid)
        started = time.perf_counter()
        with pytest.raises(IsolatedFailure, match=r"^处理超时 \(超过 1 秒\)$"):
            await pool.run(TENANT, _sleep, 30)
        assert time.perf_counter() - started < 10
        assert await pool.run(TENANT, _pid) != first


async def test_a_worker_that_dies_mid_job_fails_that_job_only() -> None:
    async with running_pool() as pool:
        first = await pool.run(TENANT, _pid)
        with pytest.raises(IsolatedFailure, match=r"^处理进程异常退出 \(退出码 3，"):
            await pool.run(TENANT, _crash, 3)
        assert await pool.run(TENANT, _pid) != first


async def test_running_out_of_memory_fails_the_job_and_recycles_the_worker() -> None:
    async with running_pool(memory_bytes=768 * 1024 * 1024) as pool:
        first = await pool.run(TENANT, _pid)
        with pytest.raises(IsolatedFailure, match=r"^超出内存上限$"):
            await pool.run(TENANT, _allocate, 2048)
        assert await pool.run(TENANT, _allocate, 64) == 64 * 1024 * 1024
        assert await pool.run(TENANT, _pid) != first


async def test_workers_are_recycled_after_their_quota_of_jobs_or_past_their_size() -> None:
    async with running_pool(max_jobs=2) as pool:
        first = await pool.run(TENANT, _pid)
        assert await pool.run(TENANT, _pid) == first
        assert await pool.run(TENANT, _pid) != first
    async with running_pool(recycle_rss_bytes=1) as pool:  # every worker is too big
        first = await pool.run(TENANT, _pid)
        assert await pool.run(TENANT, _pid) != first


async def test_two_workers_run_two_jobs_at_once_and_later_callers_wait(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    async with running_pool(workers=2) as pool:
        workers = set(pool.pids())
        both = await asyncio.gather(pool.run("t1", _meet, a, b), pool.run("t2", _meet, b, a))
        assert set(both) == workers and len(workers) == 2
        queued = await asyncio.gather(*(pool.run(f"t{n % 3}", _pid) for n in range(6)))
        assert set(queued) <= workers


async def test_a_cancelled_job_is_killed_and_its_worker_replaced() -> None:
    async with running_pool(timeout_s=60.0) as pool:
        first = await pool.run(TENANT, _pid)
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.run(TENANT, _sleep, 30), 0.5)
        assert await pool.run(TENANT, _pid) != first
        assert time.perf_counter() - started < 10


async def test_closing_the_pool_ends_its_workers() -> None:
    async with running_pool(workers=2) as pool:
        pids = [pid for pid in pool.pids() if pid is not None]
        assert len(pids) == 2
    assert not any(_exists(pid) for pid in pids)  # exited and reaped before close returned
    with pytest.raises(IsolatedFailure):
        await pool.run(TENANT, _pid)


async def test_one_tenant_s_slow_documents_leave_a_worker_to_the_others() -> None:
    """Two workers: a tenant's flood of slow jobs runs one at a time, another tenant's job
    runs at once on the other worker (had it queued behind the flood, a flood job would have
    finished first)."""
    async with running_pool(workers=2) as pool:
        flood = [asyncio.create_task(pool.run("evil", _sleep, 20)) for _ in range(4)]
        await asyncio.sleep(0.2)
        await asyncio.wait_for(pool.run("good", _pid), 15)
        assert not any(task.done() for task in flood)
        for task in flood:
            task.cancel()
        await asyncio.gather(*flood, return_exceptions=True)
