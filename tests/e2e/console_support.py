"""Driving the web console in real headless Chromium (Debian's `chromium`, which setup installs;
Playwright only drives it, it never downloads a browser), offline: every request to a host other
than Conveyor's own is refused and recorded. Plus the one thing outside the system the console
tests stand in for: an OpenAI-compatible embeddings API for the knowledge-base search."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

CHROMIUM = os.environ.get("CONVEYOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CONVEYOR_HOSTS = {"127.0.0.1"}  # the gateway and the S3 endpoint of the test cluster
REPO = Path(__file__).resolve().parents[2]
# Every run writes each page here (ignored by git); docs/screenshots/ keeps chosen ones.
SCREENSHOTS = Path(os.environ.get("CONVEYOR_SCREENSHOTS", REPO / "build" / "screenshots"))
DIMENSIONS = 384
# axe-core, vendored (tests/e2e/vendor/README.md): the accessibility rules every page must pass.
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.10.3" / "axe.min.js"
BLOCKING_IMPACTS = ("critical", "serious")
# Chromium logs every 4xx answer; the console shows those to the user as messages on purpose.
EXPECTED_HTTP_ERROR = "Failed to load resource: the server responded with a status of 4"


async def launch() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat, before the browser)
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                   headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class OfflineContext:
    """A browser context (one signed-in user) in which only Conveyor's hosts answer."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.blocked: list[str] = []
        self.errors: list[str] = []  # uncaught script errors and console errors of any page

    @classmethod
    async def open(cls, browser: Browser) -> OfflineContext:
        context = await browser.new_context(viewport={"width": 1360, "height": 900},
                                            accept_downloads=True)
        offline = cls(context)
        await context.route("**/*", offline._only_conveyor)
        context.on("page", offline._watch)
        return offline

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self.errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and not message.text.startswith(EXPECTED_HTTP_ERROR)
                else None)

    async def _only_conveyor(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in CONVEYOR_HOSTS:
            await route.continue_()
        else:
            self.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    async def close(self) -> None:
        await self.context.close()


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(base_url + "/")
    await page.wait_for_url(re.compile(r"/ui/"))
    await page.fill("#token", token)
    await page.click("#signin button[type=submit]")
    await page.wait_for_selector("#task-list")


async def axe_violations(page: Page) -> list[str]:
    """axe-core's critical and serious violations on the page as it is, one line each (the rule,
    its help and the first offending elements). Run through the DevTools protocol, so the
    console's CSP (scripts from its own origin only) stays as it is."""
    await page.evaluate(await asyncio.to_thread(AXE.read_text, encoding="utf-8"))
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['impact']} {v['id']}: {v['help']} at "
            + "; ".join(", ".join(node["target"]) for node in v["nodes"][:3])
            for v in found["violations"] if v["impact"] in BLOCKING_IMPACTS]


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


def _vector(text: str) -> list[float]:
    """A bag-of-words vector: texts sharing words point the same way (enough to rank chunks in a
    console test; retrieval quality is the knowledge-base tests' and benchmark's business)."""
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "big") % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class FakeEmbeddings:
    """`POST /v1/embeddings` in the OpenAI shape the ingester's http provider speaks."""

    def __init__(self) -> None:
        self.requests = 0
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests += 1
                data = [{"object": "embedding", "index": i, "embedding": _vector(text)}
                        for i, text in enumerate(body["input"])]
                raw = json.dumps({"object": "list", "data": data, "model": body["model"]})
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw.encode())

            def log_message(self, *args: object) -> None:
                pass

        return Handler
