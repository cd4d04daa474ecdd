"""Runs under the system Python (/usr/bin/python3), which has LibreOffice's `uno` module; the
project's interpreter does not. Starts one headless LibreOffice with its own profile, then
converts documents to PDF over UNO, one JSON request per stdin line, one JSON reply per line:

    {"src": "/tmp/a.docx", "dst": "/tmp/a.pdf"}  ->  {"ok": true} | {"ok": false, "error": "..."}

A warm instance converts a small document in ~0.13 s where a cold `soffice --convert-to` costs
~1.2 s. The pool restarts this process (and so LibreOffice) on a timeout and every few hundred
conversions. Standard library and uno only: nothing of the project is importable here."""

import json
import subprocess
import sys
import time
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

START_TIMEOUT_S = 60


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
    pipe_name, profile_dir = sys.argv[1], sys.argv[2]
    office = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        "--nolockcheck", f"-env:UserInstallation=file://{profile_dir}",
        f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        office.terminate()
        try:
            office.wait(10)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
