"""Child processes that die with the service that started them, whatever kills it.

A service killed with SIGKILL runs no clean-up, so its process pools would live on with parent 1
(and multiprocessing's resource tracker with them, kept alive by the pipe they inherited). Two
independent guards make every pool process follow its parent:

- `PR_SET_PDEATHSIG`: the kernel sends SIGKILL the moment the parent exits. It fires when the
  parent *thread* that started the child ends, so pools must be grown from a thread that lives as
  long as the pool (the event loop's, which is where `run_in_executor` submits from);
- a daemon thread in the child that polls its parent id, for kernels or start paths where the
  signal is not set (and as the only guard off Linux).

Once the pool processes are gone, the resource tracker reads end-of-file and exits by itself."""

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 0.5


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send `sig` to this process when its parent exits (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    return False


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a child process (e.g. a pool initializer)."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watch",
                     daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _initialize(parent_pid: int, initializer: Callable[..., Any] | None,
                initargs: tuple[Any, ...]) -> None:
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def process_pool(processes: int, *, initializer: Callable[..., Any] | None = None,
                 initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A `spawn` process pool whose processes die with this process. (spawn, not fork: forking
    a process that already runs threads and an event loop is unsafe.)"""
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_initialize,
                               initargs=(os.getpid(), initializer, initargs))


def owned_temp_dir(prefix: str, root: Path | None = None) -> Path:
    """A temporary directory named after this process (`<prefix><pid>-<random>`), so a later
    `remove_orphaned_temp_dirs` can tell it from a live process's; under `root` (default: the
    system's temporary directory)."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root))


def remove_orphaned_temp_dirs(prefix: str, root: Path | None = None) -> list[Path]:
    """Remove `<prefix><pid>-*` directories whose process is gone (left by a killed service)."""
    removed = []
    for path in (root or Path(tempfile.gettempdir())).glob(f"{prefix}*"):
        owner = path.name[len(prefix):].split("-", 1)[0]
        if not path.is_dir() or not owner.isdigit() or _alive(int(owner)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
