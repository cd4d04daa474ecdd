"""The console beyond the happy path, in headless Chromium: finding tasks (search and filters in
the URL), bulk and confirmed actions, an item's detail and a retry's link to its parent, the
batch form's errors next to it and its row range, deleting knowledge-base documents, the file
browser, the operators' view, the health page, Chinese and English, phones and dark mode. Every
page is checked with axe-core (no critical or serious violation) and photographed into
docs/screenshots/ at 1366 and 390 px, in English and in zh-CN."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Api, Stack
from tests.e2e.console_support import REPO, OfflineContext, axe_violations, launch, sign_in
from tests.e2e.docs_fixtures import template

pytestmark = pytest.mark.asyncio(loop_scope="session")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SHOTS = REPO / "docs" / "screenshots"
PAGES = ["tasks", "task", "documents", "slides", "kb", "kb-detail", "servers", "files", "ops",
         "health"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def alice(stack: Stack) -> Api:
    return await stack.user("console-views", "alice")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docx_renderer(stack: Stack) -> AsyncIterator[None]:
    handle = await stack.cluster.start("docrender", CONVEYOR_DOCRENDER_OFFICE_INSTANCES="0",
                                       CONVEYOR_INSTANCE_NAME="views-docsrv")
    await stack.cluster.wait_for_log(handle, "worker.ready")
    yield
    await stack.cluster.kill(handle)


async def _context(browser: Browser, *, locale: str = "en-US", width: int = 1366,
                   dark: bool = False) -> OfflineContext:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale=locale,
                                        color_scheme="dark" if dark else "light",
                                        accept_downloads=True)
    offline = OfflineContext(context)
    await context.route("**/*", offline._only_conveyor)
    context.on("page", offline._watch)
    return offline


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, stack: Stack, alice: Api) -> AsyncIterator[Page]:
    offline = await _context(browser)
    page = await offline.context.new_page()
    await sign_in(page, stack.url, alice.token or "")
    yield page
    await offline.close()
    assert offline.blocked == [] and offline.errors == [], (offline.blocked, offline.errors)


def _accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))


async def test_search_and_filters_live_in_the_url(page: Page, stack: Stack, alice: Api) -> None:
    wanted = await alice.create_echo([{"value": 1}], name="needle-report")
    await alice.create_echo([{"value": 1}], name="haystack")
    await alice.wait_finished(wanted["taskId"])
    await page.fill("#task-search", "needle")
    await expect(page.locator("#task-list tbody tr")).to_have_count(1)
    await expect(page).to_have_url(f"{stack.url}/ui/#/tasks?q=needle")
    await page.select_option("#filter-status", "completed")
    await expect(page).to_have_url(f"{stack.url}/ui/#/tasks?q=needle&status=completed")
    await page.reload()  # the view comes back from the URL alone
    await expect(page.locator("#task-search")).to_have_value("needle")
    await expect(page.locator("#task-list tbody tr")).to_have_count(1)
    await page.fill("#task-search", wanted["taskId"][:8])  # an id prefix finds it too
    await expect(page.locator("#task-list tbody tr")).to_have_count(1)
    await expect(page.locator("#task-list")).to_contain_text(wanted["taskId"])


async def test_bulk_cancel_asks_first_then_retry(page: Page, stack: Stack, alice: Api) -> None:
    slow = [await alice.create_echo([{"value": i, "sleep_ms": 500} for i in range(40)],
                                    name=f"bulk-{n}", concurrency=1) for n in range(2)]
    await page.goto(f"{stack.url}/ui/#/tasks?q=bulk-")
    await expect(page.locator("#task-list tbody tr")).to_have_count(2)
    await page.check("#select-all")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    await page.click("#bulk-cancel")  # dismissed: nothing happens
    await asyncio.sleep(0.3)
    assert {(await alice.task(t["taskId"]))["status"] for t in slow} <= {"running", "pending"}
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.check("#select-all")
    await page.click("#bulk-cancel")
    for task in slow:
        cancelled = await alice.wait_until(task["taskId"], lambda t: t["status"] == "cancelled")
        assert [(a["agentType"], a["status"]) for a in cancelled["agents"]] == [
            ("process", "cancelled")], cancelled["agents"]
    await expect(page.locator("#task-list .badge")).to_have_text(["cancelled"] * 2)


async def test_a_paused_tasks_stage_says_paused(alice: Api) -> None:
    task = await alice.create_echo([{"value": i, "sleep_ms": 300} for i in range(30)],
                                   name="pausing", concurrency=1)
    await alice.wait_until(task["taskId"], lambda t: t["status"] == "running")
    paused_answer = await alice.command(task["taskId"], "pause")
    assert paused_answer.status_code == 200, paused_answer.text
    paused = await alice.task(task["taskId"])
    assert [(a["agentType"], a["status"]) for a in paused["agents"]] == [("process", "paused")]
    assert (await alice.command(task["taskId"], "resume")).status_code == 200
    resumed = await alice.task(task["taskId"])
    assert resumed["agents"][0]["status"] in ("running", "pending")
    await alice.command(task["taskId"], "cancel")


async def test_item_detail_and_retry_links(page: Page, stack: Stack, alice: Api) -> None:
    task = await alice.create_echo([{"value": 0}, {"value": 1, "fail": "permanent"}],
                                   name="detail", continueOnError=True)
    await alice.wait_finished(task["taskId"])
    await page.goto(f"{stack.url}/ui/#/tasks/{task['taskId']}")
    await page.click("#items tr[data-seq='1'] button")
    detail = page.locator("#item-detail")
    await expect(detail).to_contain_text('"fail": "permanent"')
    await expect(detail).to_contain_text("asked to fail")
    await expect(page.locator("[data-stage=process]")).to_contain_text("1 done, 1 failed of 2")
    await page.click("#task-actions [data-action=retry-failed]")
    await expect(page.locator("#parent-link")).to_have_text(task["taskId"])
    await page.click("#parent-link")
    await expect(page.locator("#retries .retry-link")).to_have_count(1)


async def test_the_batch_form_says_what_is_missing_next_to_it(
    page: Page, stack: Stack, alice: Api, docx_renderer: None
) -> None:
    await page.goto(f"{stack.url}/ui/#/documents")
    await page.set_input_files("#template-upload input[type=file]", files=[{
        "name": "invoice.docx", "mimeType": DOCX,
        "buffer": template("{{ name }} {{ amount }} {{ city }}")}])
    await page.click("#template-upload button[type=submit]")
    await page.set_input_files("#data-upload input[type=file]", files=[{
        "name": "rows.csv", "mimeType": "text/csv",
        "buffer": "".join(["name\n", *[f"n{i}\n" for i in range(40)]]).encode()}])
    await page.click("#data-upload button[type=submit]")
    await expect(page.locator("#data-sources tr", has_text="rows.csv")).to_have_count(1)
    await page.check("#batch-form input[name=template]")
    await page.click("#batch-form button[type=submit]")
    await expect(page.locator("#batch-error")).to_have_text("rows.csv lacks amount, city")
    await expect(page.locator(".toast.error")).to_have_count(0)

    await page.set_input_files("#template-upload input[type=file]", files=[{
        "name": "names.docx", "mimeType": DOCX, "buffer": template("{{ name }}")}])
    await page.click("#template-upload button[type=submit]")
    await expect(page.locator("#templates tr", has_text="names.docx")).to_have_count(1)
    await page.locator("#batch-form label", has_text="names").locator("input").check()
    await page.fill("#row-first", "11")
    await page.fill("#row-last", "20")
    await page.click("#batch-form button[type=submit]")
    await expect(page.locator(".page-head .badge").first).to_have_text("completed",
                                                                       timeout=60_000)
    await expect(page.locator("#task-counts")).to_have_text("10/10 done")


async def test_knowledge_base_documents_can_be_deleted(page: Page, stack: Stack,
                                                       alice: Api) -> None:
    kb = (await alice.http.post("/api/v1/knowledge-bases", json={"name": "scratch"})).json()
    kb_id = kb["data"]["id"]
    for name in ("keep.md", "drop.md"):
        uploaded = await alice.http.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                         files={"file": (name, b"# notes\n\nsome text")})
        assert uploaded.status_code == 200, uploaded.text
    await page.goto(f"{stack.url}/ui/#/kb/{kb_id}")
    _accept_dialogs(page)
    await page.locator("#kb-documents tr", has_text="drop.md").locator("button").click()
    await expect(page.locator("#kb-documents tr", has_text="drop.md")).to_have_count(0)
    await expect(page.locator("#kb-documents tr", has_text="keep.md")).to_have_count(1)


async def test_the_file_browser_uploads_and_opens_folders(page: Page, stack: Stack,
                                                          alice: Api) -> None:
    put = await alice.http.put("/files/views/in/a.txt", content=b"hello")
    assert put.status_code == 201, put.text
    await page.goto(f"{stack.url}/ui/#/files")
    await page.click("#file-list a:has-text('views/')")
    await page.click("#file-list a:has-text('in/')")
    await expect(page.locator("#file-prefix")).to_have_text("/views/in/")
    await expect(page.locator("#file-list tr[data-path='/views/in/a.txt']")).to_have_count(1)
    await page.set_input_files("#file-upload", files=[{
        "name": "b.txt", "mimeType": "text/plain", "buffer": b"second"}])
    await page.click("#upload-file button[type=submit]")
    await expect(page.locator("#file-list tr[data-path='/views/in/b.txt']")).to_contain_text(
        "6 B")


async def test_operators_view_and_health(page: Page, stack: Stack, alice: Api,
                                         docx_renderer: None) -> None:
    done = await alice.create_echo([{"value": i} for i in range(5)] + [
        {"value": 9, "fail": "permanent"}], name="ops", continueOnError=True)
    await alice.wait_finished(done["taskId"])
    await page.goto(f"{stack.url}/ui/#/ops")
    row = page.locator("#ops-queue tr[data-kind=echo]")
    await expect(row.locator("td").nth(3)).not_to_have_text("0")
    await expect(page.locator("#ops-charts figure", has_text="echo ·")).to_have_count(2)
    await page.goto(f"{stack.url}/ui/#/health")
    await expect(page.locator("#live-instances tr[data-service=docrender]").first).to_contain_text(
        "workflows: ")
    assert "[object Object]" not in await page.locator("main").inner_text()


async def _visit(page: Page, base: str, name: str, ids: dict[str, str]) -> None:
    target = {"task": f"tasks/{ids['task']}", "kb-detail": f"kb/{ids['kb']}"}.get(name, name)
    await page.goto(f"{base}/ui/#/{target}")
    await page.wait_for_selector("main h1")
    await page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("locale, width, dark", [
    ("en-US", 1366, False), ("en-US", 390, False), ("zh-CN", 1366, False), ("zh-CN", 390, False),
    ("en-US", 1366, True),
])
async def test_every_page_passes_axe_and_fits_the_screen(
    browser: Browser, stack: Stack, alice: Api, locale: str, width: int, dark: bool
) -> None:
    task = await alice.create_echo([{"value": 1}], name="axe")
    await alice.wait_finished(task["taskId"])
    kbs = (await alice.http.get("/api/v1/knowledge-bases")).json()["data"]
    kb_id = kbs[0]["id"] if kbs else (await alice.http.post(
        "/api/v1/knowledge-bases", json={"name": "axe"})).json()["data"]["id"]
    offline = await _context(browser, locale=locale, width=width, dark=dark)
    page = await offline.context.new_page()
    await sign_in(page, stack.url, alice.token or "")
    chinese = locale == "zh-CN"
    await expect(page.locator("#nav a[data-page=tasks]")).to_have_text(
        "任务" if chinese else "Tasks")
    assert await page.evaluate("document.documentElement.lang") == ("zh-CN" if chinese else "en")
    found: dict[str, list[str]] = {}
    for name in PAGES:
        await _visit(page, stack.url, name, {"task": task["taskId"], "kb": kb_id})
        if violations := await axe_violations(page):
            found[name] = violations
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} lays out {wide} px wide in a {width} px window"
        suffix = f"{'zh-CN' if chinese else 'en'}-{width}{'-dark' if dark else ''}"
        shot = SHOTS / f"{name}-{suffix}.png"
        await asyncio.to_thread(shot.parent.mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=str(shot), full_page=False)
    if chinese:  # one language throughout: no English label left on the task list
        await _visit(page, stack.url, "tasks", {"task": task["taskId"], "kb": kb_id})
        text = await page.locator("main").inner_text()
        for english in ("New echo task", "Status", "Progress", "completed"):
            assert english not in text, f"{english!r} left untranslated"
    await offline.close()
    assert found == {}, found
    assert offline.errors == [], offline.errors


async def test_the_language_switch(browser: Browser, stack: Stack, alice: Api) -> None:
    offline = await _context(browser, locale="en-US")
    page = await offline.context.new_page()
    await sign_in(page, stack.url, alice.token or "")
    await page.click("#lang")
    await expect(page.locator("#nav a[data-page=tasks]")).to_have_text("任务")
    await page.click("#lang")
    await expect(page.locator("#nav a[data-page=tasks]")).to_have_text("Tasks")
    await offline.close()



async def test_offline_pages_say_so_and_offer_a_retry(browser: Browser, stack: Stack,
                                                      alice: Api) -> None:
    offline = await _context(browser)
    page = await offline.context.new_page()
    await sign_in(page, stack.url, alice.token or "")
    await offline.context.set_offline(True)
    await page.evaluate("location.hash = '#/kb'")
    error = page.locator(".card.error")
    await expect(error).to_contain_text("The gateway cannot be reached")
    await offline.context.set_offline(False)
    await error.locator("button", has_text="Try again").click()
    await expect(page.locator("main h1")).to_have_text("Knowledge bases")
    await offline.close()  # the browser logged the refused requests: expected here
