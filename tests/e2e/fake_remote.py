"""A remote server (docs/remote-protocol.md) run inside a test, which records every request it
gets: whose files reach which server is what the tenant tests look at. It runs one workflow,
`copy-text` (.txt -> .out: the input's bytes, uploaded to the output URL), and holds its
batches `running` while `hold` is clear, so a test can act between two batches."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.harness.fake_http import JsonHandler

HOST = "127.0.0.2"  # admitted by the test stack's allow-list
WORKFLOW = {"name": "copy-text", "inputs": [".txt"], "output": ".out",
            "content_type": "text/plain", "description": "copies the file"}
# Presigned URLs from Conveyor; never through a proxy of the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeRemote:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.batches: list[dict[str, Any]] = []  # every POST /batches body, in order
        self.hold = threading.Event()
        self.hold.set()
        self.url = ""
        self._done: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def presigned(self) -> list[str]:
        """Every URL handed to this server."""
        return [url for body in self.batches for f in body["files"]
                for url in (f["input_url"], f["output_url"])]

    def _health(self) -> dict[str, Any]:
        return {"protocol": "conveyor-remote/1", "status": "ok", "name": "fake",
                "workflows": [WORKFLOW], "max_batch_size": 0}

    def _run(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        files = []
        for f in body["files"]:
            with _DIRECT.open(f["input_url"], timeout=10) as response:
                content = response.read()
            upload = urllib.request.Request(f["output_url"], data=content, method="PUT",
                                            headers={"Content-Type": f["output_content_type"]})
            with _DIRECT.open(upload, timeout=10):
                pass
            files.append({"id": f["id"], "status": "done", "output_bytes": len(content)})
        return files

    def _state(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            files = self._done.get(batch_id)
        if files is None:
            return None
        if not self.hold.is_set():
            return {"batch_id": batch_id, "status": "running",
                    "files": [{"id": f["id"], "status": "running"} for f in files]}
        return {"batch_id": batch_id, "status": "done", "files": files}

    def handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                if self.path == "/health":
                    self.send_json(200, fake._health())
                    return
                state = fake._state(self.path.rsplit("/", 1)[-1])
                self.send_json(404, {"error": "unknown"}) if state is None \
                    else self.send_json(200, state)

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                body = self.read_json()
                fake.batches.append(body)
                files = fake._run(body)
                with fake._lock:
                    fake._done[body["batch_id"]] = files
                self.send_json(202, fake._state(body["batch_id"]))

            def do_DELETE(self) -> None:
                fake.requests.append(("DELETE", self.path))
                self.send_response(204)
                self.end_headers()

        return Handler


@contextmanager
def fake_remote() -> Iterator[FakeRemote]:
    fake = FakeRemote()
    server = ThreadingHTTPServer((HOST, 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://{HOST}:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.hold.set()
        server.shutdown()
        server.server_close()


def expires_in(url: str) -> int:
    """The lifetime a presigned URL states, in seconds."""
    return int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])
