"""Runs under the system Python (/usr/bin/python3), which has LibreOffice's `uno` module; the
project's interpreter does not. Starts one headless LibreOffice with its own profile, then
converts documents to PDF over UNO, one JSON request per stdin line, one JSON reply per line:

    {"src": "/tmp/a.docx", "dst": "/tmp/a.pdf"}  ->  {"ok": true} | {"ok": false, "error": "..."}

(optionally with "cpu_s", this conversion's CPU time, and "destinations": bookmarks exported
as named destinations).

A warm instance converts a small document in ~0.13 s where a cold `soffice --convert-to` costs
~1.2 s. The pool restarts this process (and so LibreOffice) on a timeout and every few hundred
conversions. Standard library and uno only: nothing of the project is importable here.

It dies with the service that started it, even one killed with SIGKILL: the kernel sends it
SIGTERM when that parent exits (PR_SET_PDEATHSIG), and it then ends LibreOffice, which in turn
gets SIGKILL if the bridge itself vanishes."""

import ctypes
import ctypes.util
import json
import os
import resource
import signal
import subprocess
import sys
import time
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

START_TIMEOUT_S = 60
PR_SET_PDEATHSIG = 1


def _on_parent_death(sig: int) -> bool:
    """Arm `sig` for when our parent exits; True if the kernel took it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _stop(signum, frame):  # type: ignore[no-untyped-def]
    raise SystemExit(0)  # runs main()'s finally: LibreOffice is ended with us


def _prop(name: str, value: object) -> Any:
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _connect(pipe_name: str) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe_name};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _descendants(pid: int) -> list[int]:
    """soffice is a script that starts oosplash, which starts soffice.bin: the whole tree."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _allow_cpu(pid: int, seconds: int) -> None:
    """Before a conversion: each LibreOffice process may use `seconds` more CPU time, then the
    kernel sends it SIGXCPU (it dies; the pool replaces the instance)."""
    ticks = os.sysconf("SC_CLK_TCK")
    for process in _descendants(pid):
        try:
            with open(f"/proc/{process}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
            resource.prlimit(process, resource.RLIMIT_CPU,
                             (int(used) + seconds + 1, resource.RLIM_INFINITY))
        except (OSError, ValueError, IndexError):
            continue


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _convert(desktop: Any, src: str, dst: str, destinations: bool) -> None:
    """`destinations`: the document's bookmarks become named destinations of the PDF (merged
    rows are split back at theirs)."""
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src), "_blank", 0,
        (_prop("Hidden", True), _prop("ReadOnly", True)))
    if document is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        options = [_prop("FilterName", "writer_pdf_Export")]
        if destinations:
            options.append(_prop("FilterData", uno.Any(
                "[]com.sun.star.beans.PropertyValue",
                (_prop("ExportBookmarksToPDFDestination", True),))))
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(dst), tuple(options)))
    finally:
        document.close(True)


def main() -> None:
    pipe_name, profile_dir, parent_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    memory_bytes, cpu_s = int(sys.argv[4]), int(sys.argv[5])
    signal.signal(signal.SIGTERM, _stop)
    _on_parent_death(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the service died before the signal was armed
        return

    def prepare_office() -> None:  # in the child, before exec
        _on_parent_death(signal.SIGKILL)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    office = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        "--nolockcheck", f"-env:UserInstallation=file://{profile_dir}",
        f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=prepare_office)
    try:
        desktop = _connect(pipe_name)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            # A merged document of many rows is allowed more CPU time (the pool says how much).
            _allow_cpu(office.pid, int(request.get("cpu_s", cpu_s)))
            try:
                _convert(desktop, request["src"], request["dst"],
                         bool(request.get("destinations")))
                reply: dict[str, object] = {"ok": True}
            except Exception as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                if not any(os.path.exists(f"/proc/{pid}") and _alive(pid)
                           for pid in _descendants(office.pid)[1:]):
                    # LibreOffice itself died (a limit's signal): say so, and exit to be
                    # replaced with a fresh instance.
                    reply["limit"] = True
                    print(json.dumps(reply), flush=True)
                    return
            print(json.dumps(reply), flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut this short
        office.terminate()
        try:
            office.wait(10)
        except subprocess.TimeoutExpired:
            office.kill()
        # soffice.bin is oosplash's child, not ours: our process group holds it (the pool
        # started us in a session of our own), so end the group, ourselves last.
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)


if __name__ == "__main__":
    main()
