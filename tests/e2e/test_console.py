"""The web console, driven in headless Chromium with every host but Conveyor's blocked: sign in,
watch a task live, pause/resume/cancel it from its page, start a PDF batch from the form and
download its ZIP, search a knowledge base, see slide thumbnails, and a second tenant sees none
of it. Also /docs and /redoc render from local assets."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from sqlalchemy import text

from libs.db.engine import create_engine
from tests.e2e.conftest import Api, Stack
from tests.e2e.console_support import OfflineContext, launch, screenshot, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


@pytest_asyncio.fixture(loop_scope="session")
async def offline(browser: Browser) -> AsyncIterator[OfflineContext]:
    context = await OfflineContext.open(browser)
    yield context
    await context.close()
    assert context.blocked == [], f"the page reached outside Conveyor: {context.blocked}"
    assert context.errors == [], f"script errors: {context.errors}"


@pytest_asyncio.fixture(loop_scope="session")
async def page(offline: OfflineContext, stack: Stack, alice: Api) -> Page:
    page = await offline.context.new_page()
    await sign_in(page, stack.url, alice.token or "")
    return page


def _items(count: int, sleep_ms: int) -> list[dict[str, object]]:
    return [{"value": i, "sleep_ms": sleep_ms} for i in range(count)]


async def test_sign_in_refuses_a_bad_token_and_keeps_the_token_out_of_urls(
    offline: OfflineContext, stack: Stack, alice: Api
) -> None:
    page = await offline.context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    await page.goto(stack.url + "/")
    await expect(page).to_have_url(stack.url + "/ui/")
    await screenshot(page, "01-sign-in")
    await page.fill("#token", "cvr_not-a-real-token")
    await page.click("#signin button[type=submit]")
    await expect(page.locator(".toast.error")).to_contain_text("not valid")
    await sign_in(page, stack.url, alice.token or "")
    assert await page.evaluate("sessionStorage.getItem('conveyor.token')") == alice.token
    await expect(page.locator("#live")).to_have_text("live")
    assert not [url for url in urls if (alice.token or "") in url]


async def test_a_200_item_echo_task_reaches_100_percent_without_reloading(page: Page) -> None:
    await page.evaluate("window.__notReloaded = true")
    await page.fill("#new-echo input[name=items]", "200")
    await page.fill("#new-echo input[name=sleep_ms]", "40")
    await page.fill("#new-echo input[name=concurrency]", "4")
    await page.click("#new-echo button[type=submit]")
    row = page.locator("#task-list tr", has_text="echo x200").first
    bar = row.locator("[role=progressbar]")
    await expect(bar).to_be_visible()
    seen: set[int] = set()
    for _ in range(600):  # 0.05 s apart: the bar moves in many steps, not one jump
        seen.add(int(await bar.get_attribute("aria-valuenow") or 0))
        if 100 in seen:
            break
        await asyncio.sleep(0.05)
    assert 100 in seen, f"the bar stopped at {max(seen)}%"
    assert len([v for v in seen if 0 < v < 100]) >= 3, f"too few live steps: {sorted(seen)}"
    await expect(row.locator(".badge")).to_have_text("completed")
    await expect(row.locator(".counts")).to_have_text("200/200 done")
    assert await page.evaluate("window.__notReloaded") is True
    await screenshot(page, "02-tasks")
