"""Runs hostile-input work (parsing uploaded files, chunking what came out) in a few long-lived
worker processes with an address-space limit and a per-job deadline: a zip bomb, a parser stuck
in a loop or a blow-up in a C extension then kills or fails only that worker and that document,
never the ingester.

Workers are forked from a forkserver that preloads the extraction code, never from the ingester
itself, whose address space holds torch and the model. They are kept, not forked per document:
a fork costs ~10 ms of CPU, and a fresh child re-imports what extraction loads lazily (python-docx:
15 ms per child against ~1 ms warm), CPU taken from the embedding model. A worker is replaced
when it overran its deadline or died (killed), after a MemoryError, after `max_jobs` jobs, or
once it has grown past `recycle_rss_bytes`, so one huge document leaves no fat process behind.

Workers die with the ingester however it ends: each exits on end-of-file of its pipe, and gets
SIGKILL when the forkserver (its parent, which exits with the ingester) is gone (libs.lifetime)."""

import asyncio
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from libs.lifetime import die_with_parent
from libs.logging import get_logger
from libs.tenant_limiter import TenantLimiter
from services.ingester.extract.base import ExtractionError

log = get_logger(__name__)

T = TypeVar("T")

_context = multiprocessing.get_context("forkserver")
# The workers run _serve from this module: preloaded too, so a replacement starts warm.
_context.set_forkserver_preload(["services.ingester.jobs", "services.ingester.isolation"])
_PAGE = os.sysconf("SC_PAGE_SIZE")


class IsolatedFailure(Exception):
    """The worker died (killed for memory, a crash), failed, or ran out of time."""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def _ran_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or an error raised while handling one (extract_text reports it as an
    ExtractionError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _serve(conn: Connection, memory_bytes: int, recycle_rss_bytes: int) -> None:
    """A worker: limits itself once, then answers (func, args) jobs one at a time with
    (outcome, value, retiring) until its pipe closes. It exits after a job that ran out of
    memory or left it larger than `recycle_rss_bytes`, saying so in that job's answer."""
    die_with_parent(os.getppid())  # the forkserver, which exits when the ingester does
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the ingester's to handle
    while True:
        try:
            func, args = conn.recv()
        except (EOFError, OSError):
            return
        exhausted = False
        try:
            reply: tuple[str, Any] = ("ok", func(*args))
        except ExtractionError as exc:
            exhausted = _ran_out_of_memory(exc)
            reply = ("refused", str(exc))
        except MemoryError:
            exhausted = True
            reply = ("failed", "超出内存上限")
        except Exception as exc:
            exhausted = _ran_out_of_memory(exc)
            reply = ("failed", f"{type(exc).__name__}: {exc}"[:500])
        del func, args
        retiring = exhausted or _rss_bytes() > recycle_rss_bytes
        conn.send((*reply, retiring))
        if retiring:
            return


class _Slot:
    """One worker process and its pipe, serving one job at a time. `run` is blocking (called
    in a thread); the pool hands a slot to one caller at a time."""

    def __init__(self, index: int, *, timeout_s: float, memory_bytes: int, max_jobs: int,
                 recycle_rss_bytes: int) -> None:
        self._name = f"extract-{index}"
        self._timeout_s = timeout_s
        self._memory_bytes = memory_bytes
        self._max_jobs = max_jobs
        self._recycle_rss_bytes = recycle_rss_bytes
        self._lock = threading.Lock()  # the process fields, against interrupt/close
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._jobs = 0
        self._busy = False
        self._closed = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Starts the worker unless one is alive (the first start boots the forkserver)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._closed:
            raise IsolatedFailure("提取进程池已关闭")
        if self._process is not None and self._process.is_alive():
            return
        self._stop()  # it died while idle: collect it
        parent, child = _context.Pipe()
        process = _context.Process(
            target=_serve, args=(child, self._memory_bytes, self._recycle_rss_bytes),
            name=self._name, daemon=True)
        process.start()
        child.close()
        self._process, self._conn, self._jobs = process, parent, 0

    def run(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        """`func(*args)` in the worker. Raises ExtractionError when the function refused its
        input, IsolatedFailure when it failed, the worker died or the job overran the
        deadline."""
        with self._lock:
            self._start()
            assert self._process is not None and self._conn is not None
            process, conn, self._busy = self._process, self._conn, True
        try:
            conn.send((func, args))
            if not conn.poll(self._timeout_s):
                log.warning("extract.worker_killed", worker=self._name, reason="timeout",
                            timeout_s=self._timeout_s)
                self._retire()
                raise IsolatedFailure(f"处理超时 (超过 {self._timeout_s:g} 秒)")
            outcome, value, retiring = conn.recv()
        except (EOFError, OSError):  # it died mid-job: the memory limit, a crash, a kill
            process.join(5)
            exitcode = process.exitcode
            log.warning("extract.worker_died", worker=self._name, exitcode=exitcode)
            self._retire()
            raise IsolatedFailure(
                f"处理进程异常退出 (退出码 {exitcode}，可能超出内存上限)") from None
        finally:
            with self._lock:
                self._busy = False
        self._jobs += 1
        if retiring or self._jobs >= self._max_jobs:
            self._retire()
        if outcome == "refused":
            raise ExtractionError(value)
        if outcome == "failed":
            raise IsolatedFailure(value)
        result: T = value
        return result

    def interrupt(self) -> None:
        """Kills the worker's job (nobody waits for it any more); `run` then replaces it."""
        with self._lock:
            if self._busy and self._process is not None:
                self._process.kill()

    def close(self) -> None:
        """An idle worker exits on end-of-file of its pipe; a busy one is killed (its caller
        gets IsolatedFailure). Neither is replaced."""
        with self._lock:
            self._closed = True
            if self._busy:
                if self._process is not None:
                    self._process.kill()
                return
            self._stop(grace_s=2)

    def _retire(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self, grace_s: float = 0) -> None:
        """Under the lock, with no job in flight: the worker and its pipe, gone."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            process.join(grace_s)
            if process.is_alive():
                process.kill()
            process.join(5)
            if process.exitcode is not None:
                process.close()


class ExtractionPool:
    """`await pool.run(tenant, func, *args)`: `func(*args)` in the first free worker. The
    workers are shared by every tenant: one tenant runs at most `per_tenant` jobs at once
    (libs.tenant_limiter), so a flood of slow documents costs that tenant, not the others.
    The deadline and the memory limit apply per job and per worker."""

    def __init__(self, workers: int, *, timeout_s: float, memory_bytes: int,
                 per_tenant: int | None = None, max_jobs: int = 200,
                 recycle_rss_bytes: int = 256 * 1024 * 1024) -> None:
        self._slots = [_Slot(index, timeout_s=timeout_s, memory_bytes=memory_bytes,
                             max_jobs=max_jobs, recycle_rss_bytes=recycle_rss_bytes)
                       for index in range(workers)]
        self._idle: asyncio.Queue[_Slot] = asyncio.Queue()
        for slot in self._slots:
            self._idle.put_nowait(slot)
        # Default: all but one worker, so one stays free for other tenants.
        self._tenants = TenantLimiter(workers, per_tenant or max(1, workers - 1))

    def pids(self) -> list[int | None]:
        """The worker processes now, by slot (None: not started, or retired)."""
        return [slot.pid for slot in self._slots]

    async def start(self) -> None:
        """Boots the forkserver and the workers now rather than on the first document."""
        for slot in self._slots:
            await asyncio.to_thread(slot.start)

    async def run(self, tenant: str, func: Callable[..., T], *args: Any) -> T:
        """Raises ExtractionError when `func` refused its input, IsolatedFailure when it
        failed, its worker died or it overran the deadline."""
        async with self._tenants.slot(tenant):
            return await self._run(func, args)

    async def _run(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        slot = await self._idle.get()
        job = asyncio.ensure_future(asyncio.to_thread(slot.run, func, args))
        # The slot is free again only once its thread is done with it, whoever still waits.
        job.add_done_callback(lambda done: self._release(slot, done))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            if not job.done():
                slot.interrupt()
            raise

    def _release(self, slot: _Slot, job: "asyncio.Future[Any]") -> None:
        if not job.cancelled():
            job.exception()  # retrieved here: a cancelled caller no longer will
        self._idle.put_nowait(slot)

    async def close(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(slot.close) for slot in self._slots))
