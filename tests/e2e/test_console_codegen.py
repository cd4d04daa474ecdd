"""The console's Code generation page in headless Chromium, offline: the requirement form, the
live agent timeline, the quality report, the generated file tree and its viewer, the preview
link and the download, on seed 002's own example with the offline provider."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.e2e.codegen_support import EXAMPLE, start_codegen, stop_codegen
from tests.e2e.conftest import Stack
from tests.e2e.console_support import OfflineContext, launch, screenshot, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def codegen(stack: Stack) -> AsyncIterator[None]:
    handle = await start_codegen(stack)
    yield
    await stop_codegen(stack, handle)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    context = await OfflineContext.open(browser)
    user = await stack.user(f"cg-ui-{uuid.uuid4().hex[:8]}", "ui")
    page = await context.context.new_page()
    await sign_in(page, stack.url, user.token or "")
    yield page
    await context.close()
    assert context.blocked == [], f"the page reached outside Conveyor: {context.blocked}"
    assert context.errors == [], f"script errors: {context.errors}"


async def test_a_generation_from_the_form_to_its_files(codegen: None, page: Page) -> None:
    await page.click("#nav a[data-page=codegen]")
    await expect(page.locator("#cg-requirement")).to_have_value(EXAMPLE)
    await page.fill("#cg-package", "com.example.marketplace")
    await page.click("#codegen-form button[type=submit]")
    await page.wait_for_url(lambda url: "#/codegen/" in url)
    await expect(page.locator("#cg-download")).to_be_visible(timeout=60_000)
    for agent in ("plan", "execute", "validate", "generate"):
        await expect(page.locator(f"#cg-agents tr[data-agent={agent}] .badge")).to_have_text(
            "completed")
    await expect(page.locator("#cg-checks tbody tr")).to_have_count(5)
    await expect(page.locator("#cg-preview-link")).to_be_visible()
    goods = "src/main/kotlin/com/example/marketplace/entity/Goods.kt"
    await page.click(f"#cg-files a[data-path='{goods}']")
    await expect(page.locator("#cg-viewer pre")).to_contain_text("class Goods(")
    await screenshot(page, "codegen")
    async with page.expect_download() as waiting:
        await page.click("#cg-download")
    download = await waiting.value
    assert download.suggested_filename == "marketplace.zip"
