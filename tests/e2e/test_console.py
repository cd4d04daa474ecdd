"""The web console, driven in headless Chromium with every host but Conveyor's blocked: sign in,
watch a task live, pause/resume/cancel it from its page, start a PDF batch from the form and
download its ZIP, search a knowledge base, see slide thumbnails, and a second tenant sees none
of it. Also /docs and /redoc render from local assets."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Api, Stack
from tests.e2e.console_support import OfflineContext, launch, screenshot, sign_in
from tests.e2e.console_workers import Workers, start_workers
from tests.e2e.docs_fixtures import template

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def workers(stack: Stack) -> AsyncIterator[Workers]:
    """docrender (PDF), slides and the ingester, started together while the first tests run."""
    async for started in start_workers(stack):
        yield started


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


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KB_DOCUMENTS = {
    "coffee.md": "# Coffee corner\n\nTo reset the espresso machine, hold the steam button for "
                 "five seconds until the light blinks. Descale the espresso machine monthly.",
    "travel.md": "# Travel policy\n\nBook trains for trips under four hours. Hotels are "
                 "reimbursed up to the city rate; keep every receipt for the expense report.",
}


def _items(count: int, sleep_ms: int) -> list[dict[str, object]]:
    return [{"value": i, "sleep_ms": sleep_ms} for i in range(count)]


async def test_sign_in_refuses_a_bad_token_and_keeps_the_token_out_of_urls(
    offline: OfflineContext, stack: Stack, alice: Api, workers: Workers
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


async def _buttons(page: Page) -> list[str]:
    return await page.locator("#task-actions button").evaluate_all(
        "buttons => buttons.map(b => b.dataset.action)")


async def test_pause_and_resume_from_the_task_page(page: Page, stack: Stack,
                                                   alice: Api) -> None:
    task = await alice.create_echo(_items(200, sleep_ms=100), concurrency=4, name="pausable")
    await page.goto(f"{stack.url}/ui/#/tasks/{task['taskId']}")
    await expect(page.locator(".page-head .badge").first).to_have_text("running")
    assert await _buttons(page) == ["pause", "cancel"]
    await alice.wait_until(task["taskId"], lambda t: t["completedItems"] >= 20)
    await page.click("#task-actions [data-action=pause]")
    await expect(page.locator(".page-head .badge").first).to_have_text("paused")
    assert await _buttons(page) == ["resume", "cancel"]
    await asyncio.sleep(1.0)  # in-flight items finish; nothing new may start
    frozen = await page.locator("#task-counts").text_content()
    await asyncio.sleep(1.0)
    assert await page.locator("#task-counts").text_content() == frozen
    assert (await alice.task(task["taskId"]))["status"] == "paused"
    late = await stack.items_started_while_paused(task["taskId"])
    assert late == 0, "an item started while the task was paused"
    await screenshot(page, "03-task-paused")

    await page.click("#task-actions [data-action=resume]")
    await expect(page.locator(".page-head .badge").first).to_have_text("completed",
                                                                       timeout=60_000)
    await expect(page.locator("#task-counts")).to_have_text("200/200 done")
    assert await _buttons(page) == []
    timeline = page.locator("#timeline")
    for event in ("created", "started", "paused", "resumed", "completed"):
        await expect(timeline).to_contain_text(event)
    await expect(page.locator("#items tbody tr")).to_have_count(50)  # first page of items
    await screenshot(page, "04-task-detail")


async def test_cancel_and_retry_failed_appear_only_when_allowed(page: Page, stack: Stack,
                                                                alice: Api) -> None:
    task = await alice.create_echo(_items(200, sleep_ms=100), concurrency=2, name="doomed")
    await page.goto(f"{stack.url}/ui/#/tasks/{task['taskId']}")
    await expect(page.locator(".page-head .badge").first).to_have_text("running")
    await page.click("#task-actions [data-action=cancel]")
    await expect(page.locator(".page-head .badge").first).to_have_text("cancelled")
    assert await _buttons(page) == []
    assert (await alice.task(task["taskId"]))["status"] == "cancelled"

    items = [{"value": 0}, {"value": 1, "fail": "permanent"}, {"value": 2}]
    flaky = await alice.create_echo(items, name="one fails")
    await alice.wait_finished(flaky["taskId"])
    await page.goto(f"{stack.url}/ui/#/tasks/{flaky['taskId']}")
    await expect(page.locator(".page-head .badge").first).to_have_text("partial_success")
    assert await _buttons(page) == ["retry-failed"]
    await expect(page.locator("#items")).to_contain_text("asked to fail")
    await page.click("#task-actions [data-action=retry-failed]")
    await expect(page.locator(".page-head h1")).to_have_text("one fails (retry)")


async def test_pdf_batch_from_the_form_and_its_zip(page: Page, stack: Stack,
                                                   workers: Workers) -> None:
    await workers.docrender_ready()
    await page.goto(f"{stack.url}/ui/#/documents")
    await page.set_input_files("#template-upload input[type=file]", files=[{
        "name": "letter.docx", "mimeType": DOCX,
        "buffer": template("Dear {{ name }},", "your order {{ order }} has shipped.")}])
    await page.click("#template-upload button[type=submit]")
    row = page.locator("#templates tr", has_text="letter.docx")
    await expect(row.locator(".fields")).to_have_text("nameorder")
    await page.set_input_files("#template-upload input[type=file]", files=[{
        "name": "scratch.docx", "mimeType": DOCX, "buffer": template("{{ unused }}")}])
    await page.click("#template-upload button[type=submit]")
    scratch = page.locator("#templates tr", has_text="scratch.docx")
    await expect(scratch.locator(".fields")).to_have_text("unused")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await scratch.locator("button", has_text="Delete").click()
    await expect(scratch).to_have_count(0)
    await page.set_input_files("#data-upload input[type=file]", files=[{
        "name": "orders.csv", "mimeType": "text/csv",
        "buffer": "name,order\n张三,A-1\nLi,A-2\nMo,A-3\n".encode()}])
    await page.click("#data-upload button[type=submit]")
    await expect(page.locator("#data-sources tr", has_text="orders.csv")).to_contain_text("3")
    await page.check("#batch-form input[name=template]")
    await page.select_option("#batch-format", "pdf")
    await screenshot(page, "05-documents")
    await page.click("#batch-form button[type=submit]")
    await expect(page.locator(".page-head .badge").first).to_have_text("completed",
                                                                       timeout=90_000)
    async with page.expect_download() as download_info:
        await page.click("#download-zip")
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    archive = zipfile.ZipFile(io.BytesIO(content))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == 3, archive.namelist()
    assert all(archive.read(name).startswith(b"%PDF") for name in pdfs)
    await screenshot(page, "06-batch-done")


async def test_knowledge_base_sync_and_search(page: Page, stack: Stack,
                                              workers: Workers) -> None:
    await workers.ingester_ready()
    await page.goto(f"{stack.url}/ui/#/kb")
    await page.fill("#kb-create input[name=name]", "handbook")
    await page.click("#kb-create button[type=submit]")
    await expect(page.locator(".page-head h1")).to_have_text("handbook")
    for name, body in KB_DOCUMENTS.items():
        await page.set_input_files("#kb-upload input[type=file]", files=[{
            "name": name, "mimeType": "text/markdown", "buffer": body.encode()}])
        await page.click("#kb-upload button[type=submit]")
        await expect(page.locator("#kb-documents tr", has_text=name)).to_contain_text(
            "not_synced")
    await page.click("#sync-now")
    for name in KB_DOCUMENTS:
        await expect(page.locator("#kb-documents tr", has_text=name)).to_contain_text(
            "synced", timeout=60_000)
    await expect(page.locator("#kb-sync-tasks .badge").first).to_have_text("completed")
    await page.fill("#search-query", "how do I reset the espresso machine")
    await page.click("#kb-search button[type=submit]")
    first = page.locator("#search-results .hit").first
    await expect(first).to_contain_text("coffee.md")
    await expect(first.locator(".score")).to_contain_text("score 0.")
    await screenshot(page, "07-knowledge-base")


async def test_slide_batch_thumbnails(page: Page, stack: Stack, workers: Workers) -> None:
    await workers.slides_ready()
    await page.goto(f"{stack.url}/ui/#/slides")
    await page.click("#slides-form button[type=submit]")
    await expect(page.locator("#thumbs figure")).to_have_count(4)
    images = page.locator("#thumbs figure img")
    await expect(images).to_have_count(4, timeout=60_000)
    widths = await images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert widths == [1920] * 4, widths
    await expect(page.locator("#thumbs figure .badge")).to_have_text(["done"] * 4)
    await screenshot(page, "08-slides")


async def test_health_and_servers_pages(page: Page, stack: Stack, workers: Workers) -> None:
    await workers.docrender_ready()
    await page.goto(f"{stack.url}/ui/#/health")
    for service in ("gateway", "scheduler", "registry", "echo", "docrender"):
        await expect(page.locator(f"#instances tr[data-service={service}]").first).to_contain_text(
            "online")
    await screenshot(page, "09-health")
    await page.goto(f"{stack.url}/ui/#/servers")
    await expect(page.locator(f"#servers tr[data-server={workers.server}]")).to_contain_text(
        "docx-to-pdf")
    await screenshot(page, "10-servers")


async def test_a_second_tenant_sees_none_of_it(offline: OfflineContext, stack: Stack,
                                               alice: Api, mallory: Api) -> None:
    alices = (await alice.http.get("/api/v1/tasks", params={"pageSize": 1})).json()["data"]
    assert alices["total"] > 0
    page = await offline.context.new_page()
    await sign_in(page, stack.url, mallory.token or "")
    await expect(page.locator("#task-list")).to_contain_text("No tasks yet.")
    await page.goto(f"{stack.url}/ui/#/documents")
    await expect(page.locator("#templates")).to_contain_text("No templates yet.")
    await expect(page.locator("#data-sources")).to_contain_text("No data sources yet.")
    await page.goto(f"{stack.url}/ui/#/kb")
    await expect(page.locator("#kb-list")).to_contain_text("No knowledge bases yet.")
    await page.goto(f"{stack.url}/ui/#/slides")
    await expect(page.locator("main")).to_contain_text("No slide batches yet.")
    await page.goto(f"{stack.url}/ui/#/tasks/{alices['tasks'][0]['taskId']}")
    await expect(page.locator(".card.error")).to_contain_text("does not exist")
    await screenshot(page, "11-second-tenant")


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"),
                                         ("/redoc", "h1:has-text('Conveyor')")])
async def test_api_docs_render_offline(offline: OfflineContext, stack: Stack, path: str,
                                       ready: str) -> None:
    page = await offline.context.new_page()
    await page.goto(stack.url + path)
    await expect(page.locator(ready).first).to_be_visible(timeout=30_000)
    await expect(page.locator("body")).to_contain_text("/api/v1/tasks")
    await screenshot(page, f"12-{path.strip('/')}")
