"""The web console, driven in headless Chromium with every host but Conveyor's blocked: sign in,
watch a task live, pause/resume/cancel it from its page, start a PDF batch from the form and
download its ZIP, search a knowledge base, see slide thumbnails, and a second tenant sees none
of it. Also /docs and /redoc render from local assets."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import websockets
from playwright.async_api import Browser, Page, expect
from websockets.typing import Subprotocol

from libs.client import Client
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
async def alice(stack: Stack) -> Api:
    """The console's own user in a tenant of its own: the lists it checks ("no failed tasks",
    "no slides") must not show what other test files on the shared stack created."""
    return await stack.user("console", "alice")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def workers(stack: Stack) -> AsyncIterator[Workers]:
    """docrender (PDF), slides and the ingester, started together while the first tests run."""
    async for started in start_workers(stack):
        yield started


@pytest.fixture
def client(stack: Stack, alice: Api) -> Iterator[Client]:
    """The typed client library (shared with the `conveyor` CLI), for setting up data; it is
    synchronous, so tests call it in a thread (the browser shares this event loop)."""
    with Client(stack.url, alice.token) as typed:
        yield typed


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
    await page.select_option("#filter-kind", "echo")
    await page.select_option("#filter-status", "completed")
    await expect(page.locator("#task-list tr", has_text="echo x200")).to_have_count(1)
    await page.select_option("#filter-status", "failed")
    await expect(page.locator("#task-list")).to_contain_text("No tasks match.")
    await page.select_option("#filter-status", "")
    await page.select_option("#filter-kind", "slides")
    await expect(page.locator("#task-list")).to_contain_text("No tasks match.")


async def _buttons(page: Page) -> list[str]:
    return await page.locator("#task-actions button").evaluate_all(
        "buttons => buttons.map(b => b.dataset.action)")


def _started(client: Client, task_id: str) -> int:
    """How many of the task's items have started (been claimed by a worker) so far."""
    return sum(1 for item in client.tasks.items(task_id, page_size=1000).items
               if item.started_at)


async def test_pause_and_resume_from_the_task_page(page: Page, stack: Stack,
                                                   client: Client, alice: Api) -> None:
    task = await asyncio.to_thread(client.tasks.create, "echo", _items(200, sleep_ms=100),
                                   concurrency=4, name="pausable")
    await page.goto(f"{stack.url}/ui/#/tasks/{task.task_id}")
    await expect(page.locator(".page-head .badge").first).to_have_text("running")
    assert await _buttons(page) == ["pause", "cancel"]
    await expect(page.locator("#task-counts")).to_contain_text(re.compile(r"^[2-9]\d/200"))
    await page.click("#task-actions [data-action=pause]")
    # The page shows "paused" once the pause is committed: from then on no claim succeeds.
    await expect(page.locator(".page-head .badge").first).to_have_text("paused")
    assert await _buttons(page) == ["resume", "cancel"]
    started = await asyncio.to_thread(_started, client, task.task_id)
    for _ in range(100):  # items already running finish (their results still count)
        settled = await asyncio.to_thread(client.tasks.get, task.task_id)
        if settled.inflight_items == 0:
            break
        await asyncio.sleep(0.1)
    # The page hears of those last results over the socket a moment later: wait for it to
    # show what the API says, then nothing may change while paused.
    await expect(page.locator("#task-counts")).to_contain_text(
        f"{settled.completed_items}/200")
    frozen = await page.locator("#task-counts").text_content()
    await asyncio.sleep(1.5)
    assert await page.locator("#task-counts").text_content() == frozen
    assert await asyncio.to_thread(_started, client, task.task_id) == started, (
        "an item started while the task was paused")
    assert (await asyncio.to_thread(client.tasks.get, task.task_id)).status == "paused"
    await screenshot(page, "03-task-paused")

    await page.click("#task-actions [data-action=resume]")
    await expect(page.locator(".page-head .badge").first).to_have_text("completed",
                                                                       timeout=60_000)
    await expect(page.locator("#task-counts")).to_have_text("200/200 done")
    assert await _buttons(page) == []
    timeline = page.locator("#timeline")
    for event in ("created", "started", "paused", "resumed", "finished completed"):
        await expect(timeline).to_contain_text(event)
    history = (await alice.http.get(f"/api/v1/tasks/{task.task_id}/timeline")).json()["data"]
    assert [(t["action"], t["status"]) for t in history["transitions"]] == [
        ("start", "running"), ("pause", "paused"), ("resume", "running"),
        ("finish", "completed")]
    await expect(page.locator("#items tbody tr")).to_have_count(50)  # first page of items
    await screenshot(page, "04-task-detail")


async def test_cancel_and_retry_failed_appear_only_when_allowed(page: Page, stack: Stack,
                                                                alice: Api) -> None:
    task = await alice.create_echo(_items(200, sleep_ms=100), concurrency=2, name="doomed")
    await page.goto(f"{stack.url}/ui/#/tasks/{task['taskId']}")
    await expect(page.locator(".page-head .badge").first).to_have_text("running")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # "Cancel …?"
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
    await expect(page.locator("#kb-sync-tasks .badge").first).to_have_text("completed",
                                                                        timeout=30_000)
    await page.fill("#search-query", "how do I reset the espresso machine")
    await page.click("#kb-search button[type=submit]")
    first = page.locator("#search-results .hit").first
    await expect(first).to_contain_text("coffee.md")
    # The fused relevance, 0-1 with the best hit near 1 (the hybrid search's `score`).
    await expect(first.locator(".score")).to_have_text(re.compile(r"score [01]\.\d{3}"))
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
    await page.locator("#thumbs .full-size").first.click()  # the full-size view, downloadable
    viewer = page.locator("dialog.viewer[open]")
    await expect(viewer.locator("img")).to_be_visible()
    assert await viewer.locator("img").evaluate("i => i.naturalWidth") == 1920
    async with page.expect_download() as download_info:
        await viewer.locator(".download-slide").click()
    assert (await download_info.value).suggested_filename == "slide-1.png"
    await page.keyboard.press("Escape")
    await expect(viewer).to_have_count(0)


async def test_health_and_servers_pages_and_a_workflow_batch(
    page: Page, stack: Stack, workers: Workers, client: Client
) -> None:
    await workers.docrender_ready()
    await page.goto(f"{stack.url}/ui/#/health")
    for service in ("gateway", "scheduler", "registry", "echo", "docrender"):
        await expect(page.locator(f"#instances tr[data-service={service}]").first).to_contain_text(
            "online")
    await screenshot(page, "09-health")
    await page.goto(f"{stack.url}/ui/#/servers")
    row = page.locator(f"#servers tr[data-server={workers.server}]")
    await expect(row).to_contain_text("docx-to-pdf")
    await expect(row.locator(".badge")).to_have_text("online", timeout=30_000)
    for name in ("sales-east/a.docx", "sales-west/b.docx", "hr/c.docx"):
        await asyncio.to_thread(client.files.put, f"/console/in/{name}",
                                template(f"report {name}"), DOCX)
    await page.reload()  # the form lists servers as they were when the page loaded
    await page.select_option("#batch-server", workers.server)
    await page.select_option("#batch-workflow", "docx-to-pdf")
    await page.fill("#server-batch textarea[name=folders]", "/console/in")
    await page.fill("#server-batch input[name=keywords]", "sales")
    await page.fill("#server-batch input[name=output]", "/console/out")
    await screenshot(page, "10-servers")
    await page.click("#server-batch button[type=submit]")
    await expect(page.locator(".page-head .badge").first).to_have_text("completed",
                                                                       timeout=90_000)
    await expect(page.locator("#task-counts")).to_have_text("2/2 done")
    listed = await asyncio.to_thread(client.files.list, "/console/out")
    assert sorted(f.path.rsplit("/", 1)[-1] for f in listed.files) == ["a.pdf", "b.pdf"]


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


async def test_a_tenant_admin_sees_the_tenants_tasks(offline: OfflineContext,
                                                     stack: Stack) -> None:
    admin = await stack.user("console", "console-admin", admin=True)
    page = await offline.context.new_page()
    await sign_in(page, stack.url, admin.token or "")
    await expect(page.locator("#task-list tr", has_text="pausable")).to_have_count(1)


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"),
                                         ("/redoc", "h1:has-text('Conveyor')")])
async def test_api_docs_render_offline(offline: OfflineContext, stack: Stack, path: str,
                                       ready: str) -> None:
    page = await offline.context.new_page()
    await page.goto(stack.url + path)
    await expect(page.locator(ready).first).to_be_visible(timeout=30_000)
    await expect(page.locator("body")).to_contain_text("/api/v1/tasks")
    # The viewport only: the whole reference is many screens tall (and slow to capture).
    await screenshot(page, f"12-{path.strip('/')}", full_page=False)


async def test_socket_token_as_subprotocol_root_redirect_and_console_headers(
    stack: Stack, alice: Api
) -> None:
    url = stack.url.replace("http", "ws", 1) + "/v2/stream"
    offered = [Subprotocol("conveyor.bearer"), Subprotocol(alice.token or "")]
    async with websockets.connect(url, subprotocols=offered) as socket:
        assert socket.subprotocol == "conveyor.bearer"
        await socket.send(json.dumps({"action": "ping"}))
        assert json.loads(await socket.recv())["type"] == "pong"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await websockets.connect(url, subprotocols=[Subprotocol("conveyor.bearer"),
                                                    Subprotocol("cvr_not-a-token")])
    assert refused.value.response.status_code in (401, 403)

    anonymous = httpx.AsyncClient(base_url=stack.url)
    root = await anonymous.get("/")
    assert (root.status_code, root.headers["location"]) == (302, "/ui/")
    page = await anonymous.get("/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert (await anonymous.get("/api/v1/tasks")).status_code == 401  # the data is not public
    await anonymous.aclose()
