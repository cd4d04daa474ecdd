"""Runs under the system Python (/usr/bin/python3), which has LibreOffice's `uno` module; the
project's interpreter does not. Starts one headless LibreOffice with its own profile, then
converts documents to PDF over UNO, one JSON request per stdin line, one JSON reply per line:

    {"src": "/tmp/a.docx", "dst": "/tmp/a.pdf"}  ->  {"ok": true} | {"ok": false, "error": "..."}

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


def _convert(desktop: Any, src: str, dst: str) -> None:
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src), "_blank", 0,
        (_prop("Hidden", True), _prop("ReadOnly", True)))
    if document is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        document.storeToURL(uno.systemPathToFileUrl(dst),
                            (_prop("FilterName", "writer_pdf_Export"),))
    finally:
        document.close(True)


def main() -> None:
    pipe_name, profile_dir, parent_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGTERM, _stop)
    _on_parent_death(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the service died before the signal was armed
        return
    office = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        "--nolockcheck", f"-env:UserInstallation=file://{profile_dir}",
        f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: _on_parent_death(signal.SIGKILL))
    try:
        desktop = _connect(pipe_name)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            try:
                _convert(desktop, request["src"], request["dst"])
                reply: dict[str, object] = {"ok": True}
            except Exception as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
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
