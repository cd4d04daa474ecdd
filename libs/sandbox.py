"""A process pool whose every job runs under resource limits: the place untrusted work
(template renders, slide drawing, image decoding) runs.

Each worker process caps its own address space (RLIMIT_AS) once at start and its CPU time
(RLIMIT_CPU, per job: the soft limit is moved to "used so far + the job's allowance") before
each job; the parent keeps a wall-clock watchdog per job. A job that exceeds any of them fails
with `ResourceLimitExceeded` (a `Permanent` error: the same input would exceed it again), and
its process is killed (or exits) and replaced, so no runaway render keeps burning a core and
no bloated process stays in the pool. A result over the output limit fails the same way instead
of being passed on cut. Other jobs, on the other processes, never notice.

It is a `concurrent.futures.Executor`, so callers keep `loop.run_in_executor(pool, fn, *args)`.
Each process slot is driven by one parent thread that sends a job down a pipe and waits for
the answer, at most the wall limit. That thread lives as long as the pool and starts the slot's
replacement processes, which matters: the parent-death signal (libs.lifetime) fires when the
*thread* that started a child ends.
"""

import contextlib
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from libs.errors import Permanent
from libs.lifetime import die_with_parent
from libs.logging import get_logger

log = get_logger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE")


class ResourceLimitExceeded(Permanent):
    """A job used more memory, CPU or time than allowed, or produced too large a result."""


@dataclass(frozen=True, slots=True)
class Limits:
    memory_bytes: int = 1536 * 1024 * 1024  # address space of a worker process
    cpu_s: int = 30  # CPU seconds per job
    wall_s: float = 60.0  # wall-clock seconds per job
    max_output_bytes: int = 100 * 1024 * 1024  # a bytes result larger than this fails
    recycle_rss_bytes: int = 512 * 1024 * 1024  # a process that grew past this is replaced


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def _cpu_used_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(conn: Connection, limits: Limits, initializer: Callable[[], object] | None,
           parent_pid: int) -> None:
    """A worker process: it dies with its parent (libs.lifetime), sets its limits, then runs
    jobs until the pipe closes. It exits (to be replaced) after running out of memory or
    growing past the recycle size."""
    die_with_parent(parent_pid)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    if initializer is not None:
        initializer()
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        # SIGXCPU (default action: terminate) once this job's CPU allowance is spent.
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = int(_cpu_used_s()) + limits.cpu_s + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY
                                                 else min(soft, hard), hard))
        exhausted = False
        try:
            result = fn(*args, **kwargs)
            if isinstance(result, bytes | bytearray) and len(result) > limits.max_output_bytes:
                raise ResourceLimitExceeded(
                    f"output of {len(result)} bytes is over the limit of "
                    f"{limits.max_output_bytes} bytes")
            reply: tuple[bool, Any] = (True, result)
        except MemoryError:
            exhausted = True
            reply = (False, ResourceLimitExceeded(
                f"memory limit of {limits.memory_bytes // 2**20} MiB exceeded"))
        except BaseException as exc:  # every failure goes back to the caller
            reply = (False, exc)
        del fn, args, kwargs
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        if exhausted or _rss_bytes() > limits.recycle_rss_bytes:
            return


@dataclass(slots=True)
class _Job:
    future: "Future[Any]"
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class _Slot:
    """One worker process and the parent thread that feeds it."""

    def __init__(self, pool: "SandboxPool", index: int) -> None:
        self._pool = pool
        self.index = index
        self.process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.thread = threading.Thread(target=self._serve, name=f"sandbox-{index}",
                                       daemon=True)

    def start_process(self) -> None:
        parent, child = self._pool.context.Pipe()
        process = self._pool.context.Process(
            target=_child,
            args=(child, self._pool.limits, self._pool.initializer, os.getpid()),
            name=f"{self._pool.name}-{self.index}", daemon=True)
        process.start()
        child.close()
        self.process, self._conn = process, parent

    def stop_process(self) -> None:
        process, conn = self.process, self._conn
        self.process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(5)

    def _serve(self) -> None:
        while True:
            job = self._pool.jobs.get()
            if job is None:
                self.stop_process()
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(self._run(job))
            except BaseException as exc:  # handed to the caller
                job.future.set_exception(exc)

    def _run(self, job: _Job) -> Any:
        limits = self._pool.limits
        if self.process is None or not self.process.is_alive():
            self.stop_process()
            self.start_process()
        assert self._conn is not None and self.process is not None
        self._conn.send((job.fn, job.args, job.kwargs))
        value: Any = None
        try:
            answered = self._conn.poll(limits.wall_s)
            ok, value = self._conn.recv() if answered else (False, None)
        except (EOFError, OSError):  # the process died mid-job: a limit's signal, or OOM
            answered, ok, value = True, False, self._death()
        if not answered:
            log.warning("sandbox.killed", pool=self._pool.name, reason="wall",
                        limit_s=limits.wall_s)
            self.stop_process()
            self.start_process()
            raise ResourceLimitExceeded(f"time limit of {limits.wall_s:g} s exceeded")
        if not self.process.is_alive() or isinstance(value, ResourceLimitExceeded):
            self.stop_process()  # exited after the job (recycled): replace it now, not later
            self.start_process()
        if ok:
            return value
        assert isinstance(value, BaseException)
        raise value

    def _death(self) -> BaseException:
        assert self.process is not None
        self.process.join(5)
        code = self.process.exitcode
        reason = {-signal.SIGXCPU: "cpu", -signal.SIGKILL: "killed (memory)"}.get(
            code or 0, f"exit {code}")
        log.warning("sandbox.died", pool=self._pool.name, reason=reason)
        if code == -signal.SIGXCPU:
            return ResourceLimitExceeded(
                f"CPU time limit of {self._pool.limits.cpu_s} s exceeded")
        if code == -signal.SIGKILL:
            return ResourceLimitExceeded("the render process was killed (out of memory)")
        return RuntimeError(f"the worker process exited unexpectedly ({reason})")


class SandboxPool(Executor):
    def __init__(self, processes: int, limits: Limits, *, name: str = "sandbox",
                 initializer: Callable[[], object] | None = None) -> None:
        # spawn, not fork: forking a process that runs threads and an event loop is unsafe.
        self.context = multiprocessing.get_context("spawn")
        self.limits = limits
        self.name = name
        self.initializer = initializer
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._slots = [_Slot(self, index) for index in range(processes)]
        self._shutdown = False
        for slot in self._slots:
            slot.start_process()
            slot.thread.start()

    def pids(self) -> list[int]:
        """The worker processes now (tests and metrics)."""
        return [s.process.pid for s in self._slots if s.process and s.process.pid]

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "Future[Any]":
        if self._shutdown:
            raise RuntimeError("the pool is shut down")
        future: Future[Any] = Future()
        self.jobs.put(_Job(future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        if cancel_futures:
            with contextlib.suppress(queue.Empty):
                while True:
                    job = self.jobs.get_nowait()
                    if job is not None:
                        job.future.cancel()
        for _ in self._slots:
            self.jobs.put(None)
        if wait:
            for slot in self._slots:
                slot.thread.join()
