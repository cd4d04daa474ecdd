"""Runs hostile-input work (parsing uploaded files, chunking what came out) in a child process
with an address-space limit and a deadline: a zip bomb, a parser stuck in a loop or a blow-up in
a C extension then kills or fails only that child and that document, never the ingester.

Children are forked from a forkserver that preloads the extraction code (a fork costs
milliseconds; a fresh interpreter importing pypdf and lxml would cost a third of a second), and
never from the ingester itself, whose address space holds torch and the model."""

import multiprocessing
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from services.ingester.extract.base import ExtractionError

T = TypeVar("T")

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["services.ingester.jobs"])


class IsolatedFailure(Exception):
    """The child died (killed for memory, a crash) or ran out of time."""


def _child(conn: Connection, memory_bytes: int, func: Callable[..., Any],
           args: tuple[Any, ...]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        conn.send(("ok", func(*args)))
    except ExtractionError as exc:
        conn.send(("refused", str(exc)))
    except MemoryError:
        conn.send(("failed", "超出内存上限"))
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def run_isolated(func: Callable[..., T], *args: Any, timeout_s: float,
                 memory_bytes: int) -> T:
    """`func(*args)` in a child process (blocking: call it through asyncio.to_thread).

    Raises ExtractionError when the function refused its input, IsolatedFailure when the child
    failed, died or overran `timeout_s`."""
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(sender, memory_bytes, func, args),
                               daemon=True)
    process.start()
    sender.close()
    deadline = time.monotonic() + timeout_s
    try:
        if not receiver.poll(timeout_s):
            raise IsolatedFailure(f"处理超时 (超过 {timeout_s:g} 秒)")
        try:
            outcome, value = receiver.recv()
        except EOFError:
            process.join(max(0.0, deadline - time.monotonic()))
            raise IsolatedFailure(
                f"处理进程异常退出 (退出码 {process.exitcode}，可能超出内存上限)") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if outcome == "refused":
        raise ExtractionError(value)
    if outcome == "failed":
        raise IsolatedFailure(value)
    result: T = value
    return result
