"""A pool of long-lived LibreOffice instances, each driven by a `uno_bridge.py` process.

An instance converts one document at a time; the pool hands out idle ones. An instance is
restarted when a conversion times out (LibreOffice hangs on some inputs) and after
`max_conversions` (a long-lived instance slows down by ~30% after ~1,500 conversions). Each has
its own profile directory: two instances sharing one lose files. Profiles, the files of each
conversion and LibreOffice's own temporary files live under one scratch directory, in memory
(/dev/shm) where the machine has it: on disk, their writeback cost ~5% of a PDF batch's CPU.

Conversions run under the same kind of limits as renders (libs/sandbox.py): LibreOffice's
address space is capped when it starts, its CPU time per conversion (the bridge moves the soft
RLIMIT_CPU before each one), the wall time by our timeout, the PDF's size here. Exceeding one
kills and replaces the instance and fails the item with a permanent error."""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import time
import uuid
from pathlib import Path

from libs.errors import Permanent, Retryable
from libs.lifetime import owned_temp_dir, remove_orphaned_temp_dirs
from libs.logging import get_logger
from libs.observability import metrics
from libs.office.warmup import warm_up_docx
from libs.sandbox import Limits, ResourceLimitExceeded

log = get_logger(__name__)

BRIDGE = Path(__file__).with_name("uno_bridge.py")
SYSTEM_PYTHON = "/usr/bin/python3"
START_TIMEOUT_S = 90.0
WORKDIR_PREFIX = "conveyor-office-"
MEMORY_SCRATCH = "/dev/shm"
# LibreOffice maps ~0.8 GB of address space idle; 2 GiB leaves room for large documents.
OFFICE_LIMITS = Limits(memory_bytes=2 * 1024**3, cpu_s=60, wall_s=60.0,
                       max_output_bytes=100 * 1024**2)
# A document of several rows (services/docrender/merged.py) gets this much more wall and CPU
# time per page past the first: a warm instance lays out and exports a simple page in ~0.02 s.
SECONDS_PER_EXTRA_PAGE = 0.25


def office_available() -> bool:
    """LibreOffice and the system Python's uno module are installed (scripts/setup.sh)."""
    return shutil.which("soffice") is not None and Path(SYSTEM_PYTHON).exists()


class OfficeInstance:
    def __init__(self, index: int, workdir: Path, limits: Limits) -> None:
        self.index = index
        self._workdir = workdir
        self._limits = limits
        self._process: asyncio.subprocess.Process | None = None
        self.conversions = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        profile = self._workdir / f"profile-{self.index}"
        pipe = f"conveyor-{os.getpid()}-{self.index}-{uuid.uuid4().hex[:6]}"
        self._process = await asyncio.create_subprocess_exec(
            # The bridge is told our pid: it arms a parent-death signal and ends LibreOffice
            # with itself, so a killed service leaves no soffice behind. Then the limits.
            SYSTEM_PYTHON, str(BRIDGE), pipe, str(profile), str(os.getpid()),
            str(self._limits.memory_bytes), str(self._limits.cpu_s),
            env={**os.environ, "TMPDIR": str(self._workdir)},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
        )
        assert self._process.stdout is not None
        ready = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT_S)
        if not ready or not json.loads(ready).get("ready"):
            raise RuntimeError(f"LibreOffice instance {self.index} did not start")
        await self._warm_up()
        self.conversions = 0
        log.info("office.started", instance=self.index)

    async def _warm_up(self) -> None:
        """One conversion before the instance takes work (libs/office/warmup.py). A refused
        conversion is logged (the real ones report their own errors); an instance that does
        not answer did not start."""
        src = self._workdir / f"warm-up-{self.index}.docx"
        dst = src.with_suffix(".pdf")
        try:
            await asyncio.to_thread(src.write_bytes, warm_up_docx())
            await self.convert(src, dst, START_TIMEOUT_S)
        except (Permanent, ResourceLimitExceeded) as exc:
            log.warning("office.warm_up_failed", instance=self.index, error=str(exc))
        except (TimeoutError, ConnectionError) as exc:
            self.abandon()
            raise RuntimeError(f"LibreOffice instance {self.index} did not start: "
                               f"warm-up conversion {type(exc).__name__}") from exc
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the bridge and its soffice child
        await process.wait()

    def abandon(self) -> None:
        """Kills the instance now (no await: callable while being cancelled); the next
        conversion starts a fresh one."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    async def convert(self, src: Path, dst: Path, timeout_s: float, *, cpu_s: int | None = None,
                      destinations: bool = False) -> None:
        process = self._process
        assert process is not None and process.stdin and process.stdout
        request = {"src": str(src), "dst": str(dst), "cpu_s": cpu_s or self._limits.cpu_s,
                   "destinations": destinations}
        process.stdin.write(json.dumps(request).encode() + b"\n")
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
        if not line:
            raise ConnectionError("LibreOffice bridge exited")
        self.conversions += 1
        reply = json.loads(line)
        if reply.get("limit"):
            raise ResourceLimitExceeded(
                f"PDF conversion exceeded the CPU ({self._limits.cpu_s} s) or memory "
                f"({self._limits.memory_bytes // 2**20} MiB) limit: {reply['error']}")
        if not reply["ok"]:
            raise Permanent(f"PDF conversion failed: {reply['error']}")


def scratch_root(wanted: str) -> Path | None:
    """`wanted` if it is a writable directory, else None (the system's temporary directory)."""
    if wanted and os.path.isdir(wanted) and os.access(wanted, os.W_OK | os.X_OK):
        return Path(wanted)
    if wanted and wanted != MEMORY_SCRATCH:  # a machine without /dev/shm is no surprise
        log.warning("office.scratch_unavailable", path=wanted, fallback="system temp dir")
    return None


class OfficePool:
    """`scratch`: the directory under which the pool keeps its files (default /dev/shm when
    writable, else the system's temporary directory)."""

    def __init__(self, size: int, *, max_conversions: int,
                 limits: Limits = OFFICE_LIMITS, scratch: str = MEMORY_SCRATCH) -> None:
        self._size = size
        self._max_conversions = max_conversions
        self._limits = limits
        root = scratch_root(scratch)
        # Folders of pools whose service was killed (no clean-up ran) go first.
        for path in remove_orphaned_temp_dirs(WORKDIR_PREFIX, root):
            log.info("office.orphan_removed", path=str(path))
        self._workdir = owned_temp_dir(WORKDIR_PREFIX, root)
        self._instances = [OfficeInstance(i, self._workdir, limits) for i in range(size)]
        self._idle: asyncio.Queue[OfficeInstance] = asyncio.Queue()

    async def start(self) -> None:
        await asyncio.gather(*(instance.start() for instance in self._instances))
        for instance in self._instances:
            self._idle.put_nowait(instance)
        self._export_occupancy()

    def _export_occupancy(self) -> None:
        idle = self._idle.qsize()
        metrics.OFFICE_INSTANCES.labels("idle").set(idle)
        metrics.OFFICE_INSTANCES.labels("busy").set(self._size - idle)

    async def check(self) -> None:
        """Readiness: at least one instance is alive (a busy one counts; a pool whose every
        instance died and could not be restarted cannot convert)."""
        if not any(instance.running for instance in self._instances):
            raise RuntimeError("no LibreOffice instance is running")

    async def stop(self) -> None:
        await asyncio.gather(*(instance.stop() for instance in self._instances))
        shutil.rmtree(self._workdir, ignore_errors=True)

    async def to_pdf(self, docx: bytes, *, pages: int = 1, destinations: bool = False) -> bytes:
        """`pages`: how many pages the document is expected to have (the wall and CPU time
        limits grow with them); `destinations`: bookmarks become named destinations."""
        extra = SECONDS_PER_EXTRA_PAGE * max(pages - 1, 0)
        wall_s = self._limits.wall_s + extra
        cpu_s = self._limits.cpu_s + int(extra + 0.999)
        instance = await self._idle.get()
        self._export_occupancy()
        started = time.perf_counter()
        job = self._workdir / f"job-{uuid.uuid4().hex}"
        src, dst = job.with_suffix(".docx"), job.with_suffix(".pdf")
        try:
            await asyncio.to_thread(src.write_bytes, docx)
            if not instance.running:  # a restart that failed earlier: try again now
                await instance.start()
            await instance.convert(src, dst, wall_s, cpu_s=cpu_s, destinations=destinations)
            metrics.OFFICE_SECONDS.observe(time.perf_counter() - started)
            if instance.conversions >= self._max_conversions:
                await self._restart(instance, "recycle")
            size = (await asyncio.to_thread(dst.stat)).st_size
            if size > self._limits.max_output_bytes:
                raise ResourceLimitExceeded(f"PDF of {size} bytes is over the limit of "
                                            f"{self._limits.max_output_bytes} bytes")
            return await asyncio.to_thread(dst.read_bytes)
        except ResourceLimitExceeded:
            await self._restart(instance, "limit")
            raise
        except TimeoutError as exc:
            await self._restart(instance, "wall")
            raise ResourceLimitExceeded(
                f"PDF conversion exceeded the time limit of {wall_s:g} s") from exc
        except (ConnectionError, json.JSONDecodeError) as exc:
            await self._restart(instance, type(exc).__name__)
            raise Retryable(f"PDF conversion did not finish: {type(exc).__name__}") from exc
        except asyncio.CancelledError:
            # Cancelled between request and reply: the reply would be read by the next
            # conversion, and LibreOffice may still be reading the file removed below.
            instance.abandon()
            raise
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
            self._idle.put_nowait(instance)
            self._export_occupancy()

    async def _restart(self, instance: OfficeInstance, reason: str) -> None:
        log.info("office.restarting", instance=instance.index, reason=reason,
                 conversions=instance.conversions)
        metrics.OFFICE_RESTARTS.labels(reason).inc()
        await instance.stop()
        await instance.start()
