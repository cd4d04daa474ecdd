"""A stand-in for an OpenAI-compatible image API (the only thing outside the system the slides
tests mock): `POST /v1/images/generations` answers a PNG after a delay, fails every prompt that
carries FAIL_MARKER with a 500 while `failing` is on, rate-limits the first request of every
second prompt with a 429, and records how many requests it ever had in flight at once."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

FAIL_MARKER = "#provider-fails#"
API_KEYS = ("key-a", "key-b")


class FakeImageApi:
    def __init__(self, *, delay_s: float = 0.3, limit: int) -> None:
        self.delay_s = delay_s
        self.limit = limit  # the provider's own concurrency limit: more gets a 429
        self.failing = True
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.over_limit = 0
        self.requests = 0
        self.rate_limited = 0
        self.keys_seen: set[str] = set()
        self._prompts_seen: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, prompt: str, size: str, key: str) -> tuple[int, dict[str, object]]:
        with self._lock:
            self.requests += 1
            self.keys_seen.add(key)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            over = self.in_flight > self.limit
            self.over_limit += over
            seen = self._prompts_seen.get(prompt, 0)
            self._prompts_seen[prompt] = seen + 1
            throttle = over or (seen == 0 and len(self._prompts_seen) % 2 == 0)
            self.rate_limited += throttle
        try:
            time.sleep(self.delay_s)
            if throttle:
                return 429, {"error": {"message": "rate limit exceeded", "type": "rate_limit"}}
            if self.failing and FAIL_MARKER in prompt:
                return 500, {"error": {"message": "upstream model crashed"}}
            width, height = (int(v) for v in size.split("x"))
            image = Image.new("RGB", (width, height), (len(prompt) % 256, 90, 160))
            out = io.BytesIO()
            image.save(out, "PNG")
            return 200, {"created": int(time.time()),
                         "data": [{"b64_json": base64.b64encode(out.getvalue()).decode()}]}
        finally:
            with self._lock:
                self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v1/images/generations" or key not in API_KEYS:
                    status, answer = 401, {"error": {"message": "bad key or path"}}
                else:
                    status, answer = api._answer(body["prompt"], body["size"], key)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0.2")
                self.end_headers()
                self.wfile.write(data)

        return Handler
