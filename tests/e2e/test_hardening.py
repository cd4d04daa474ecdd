"""Hardening of the gateway's public port: nosniff, no-store and an inert CSP on API answers;
/docs and /redoc under a CSP that still lets them render offline; the console's connections
limited to its own origin; /metrics only on the observability port; wrong bearer tokens
answered 429 past the limit per address, while a valid token from there still passes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Api, Stack
from tests.e2e.console_support import OfflineContext, launch, sign_in
from tests.e2e.metrics_support import scrape

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAILED_TOKEN_LIMIT = 1000  # the gateway's default per address and minute


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


async def test_api_answers_are_nosniff_no_store_and_inert(stack: Stack) -> None:
    api = await stack.user("i21-hardening", "reader")
    async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as anonymous:
        answers = [await api.http.get("/api/v1/tasks"), await api.http.get("/no/such/route"),
                   await anonymous.get("/api/v1/tasks"), await anonymous.get("/openapi.json"),
                   await api.http.post("/api/v1/tasks", content=b"{not json")]
    assert [a.status_code for a in answers] == [200, 404, 401, 200, 400]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["cache-control"] == "no-store", answer.url
        policy = _directives(answer.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .opblock"),
                                         ("/redoc", "h1:has-text('Conveyor')")])
async def test_docs_render_offline_under_their_csp(browser: Browser, stack: Stack, path: str,
                                                   ready: str) -> None:
    async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as anonymous:
        served = await anonymous.get(path)
    policy = _directives(served.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert served.headers["x-content-type-options"] == "nosniff"

    offline = await OfflineContext.open(browser)
    try:
        page = await offline.context.new_page()
        await page.goto(stack.url + path)
        await expect(page.locator(ready).first).to_be_visible(timeout=30_000)
        await expect(page.locator("body")).to_contain_text("/api/v1/tasks")
    finally:
        await offline.close()
    # A script the policy refused would show here as a console error.
    assert offline.errors == [] and offline.blocked == []


async def test_the_console_connects_to_its_own_origin_only(browser: Browser,
                                                           stack: Stack) -> None:
    user = await stack.user("i21-hardening", "console")
    async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as anonymous:
        policy = _directives((await anonymous.get("/ui/")).headers["content-security-policy"])
    assert not {"ws:", "wss:", "*", "http:", "https:"} & set(policy["connect-src"])
    offline = await OfflineContext.open(browser)
    try:
        page = await offline.context.new_page()
        await sign_in(page, stack.url, user.token or "")
        outcome = await page.evaluate("""([url, token]) => new Promise(resolve => {
            const socket = new WebSocket(url, ["conveyor.bearer", token]);
            socket.onopen = () => { socket.close(); resolve("open"); };
            socket.onerror = () => resolve("error");
        })""", [f"{stack.url.replace('http', 'ws', 1)}/v2/stream", user.token])
        assert outcome == "open", "its own origin's socket"
        refused = await page.evaluate("""() => new Promise(resolve => {
            document.addEventListener("securitypolicyviolation",
                event => resolve(`${event.violatedDirective} ${event.blockedURI}`));
            try { new WebSocket("ws://127.0.0.2:9/steal"); }
            catch (error) { resolve(`threw ${error.name}`); }
        })""")
    finally:
        await offline.close()
    assert refused.startswith(("connect-src", "threw SecurityError")), refused


async def test_metrics_are_served_on_the_observability_port_only(stack: Stack) -> None:
    gateway = stack.cluster.gateway
    api = await stack.user("i21-hardening", "scraper", admin=True)
    async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 401
        assert (await anonymous.get("/livez")).status_code == 200  # probes stay public
    assert (await api.http.get("/metrics")).status_code == 404
    assert str(gateway.metrics_port) not in stack.url
    samples = await scrape(gateway)  # its observability port
    assert any(name == "conveyor_http_requests_total" for name, _ in samples)


async def _wrong(client: httpx.AsyncClient, n: int) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer cvr_wrong-{n}-{os.urandom(8).hex()}"}
    return [await client.get("/api/v1/tasks", headers=headers)]


async def test_the_1001st_wrong_token_in_a_minute_gets_429_a_valid_one_still_passes(
        stack: Stack) -> None:
    # A gateway of its own: the count is per process and per address, and every test's
    # client is 127.0.0.1.
    token = (await stack.user("i21-hardening", "victim")).token
    gateway = await stack.cluster.start("gateway")
    try:
        valid = Api(gateway.url, token)
        async with httpx.AsyncClient(base_url=gateway.url, trust_env=False) as client:
            answers = []
            for start in range(0, FAILED_TOKEN_LIMIT, 50):
                batches = await asyncio.gather(*(_wrong(client, n)
                                                 for n in range(start, start + 50)))
                answers.extend(a for batch in batches for a in batch)
            assert {a.status_code for a in answers} == {401}
            refused = (await _wrong(client, FAILED_TOKEN_LIMIT))[0]
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "TOO_MANY_FAILED_TOKENS"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert (await valid.http.get("/api/v1/tasks")).status_code == 200
            assert (await _wrong(client, 0))[0].status_code == 429
    finally:
        await stack.cluster.kill(gateway)
        stack.cluster.handles.remove(gateway)  # later tests use the session's gateway again
