"""Batches on a local server (a named docrender instance): two folders picked by keyword,
batch_size files at a time; the image workflow; the instance killed mid-task."""

from __future__ import annotations

import asyncio
import io
import signal
import time
from typing import Any

import pytest_asyncio
from PIL import Image

from tests.e2e.conftest import Api, Stack
from tests.e2e.servers_fixtures import (
    batch,
    docx,
    download,
    listed,
    max_in_flight,
    png,
    server,
    start_docrender,
    upload,
    wait_batch,
    wait_server,
)
from tests.harness import ServiceHandle

NAME = "docsrv-1"
BATCH_SIZE = 2
# The registry marks a silent instance offline after 3 missed beats (0.5 s each here) and a
# sweep; the documented bound is missed_beats x heartbeat_interval_s + sweep_interval_s.
OFFLINE_WITHIN_S = 3 * 0.5 + 0.2


class Local:
    def __init__(self, admin: Api, worker: ServiceHandle) -> None:
        self.admin = admin
        self.worker = worker


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def local(stack: Stack) -> Any:
    """A docrender instance named docsrv-1: it registers itself as a local server, which
    belongs to the operator (admins of the `operator` tenant), not to any tenant."""
    admin = await stack.user("operator", "ops", admin=True)
    holder = Local(admin, await start_docrender(stack, NAME))
    await wait_server(admin, NAME, "online", within_s=15)
    described = await server(admin, NAME)  # no one registered it: its heartbeat did
    assert (described["type"], described["self_registered"]) == ("local", True)
    assert described["workflows"] == ["docx-to-pdf", "image-thumbnail"]
    tenant_admin = await stack.user("acme", "ops", admin=True)
    for method in ("PATCH", "DELETE"):
        taken = await tenant_admin.http.request(method, f"/servers/{NAME}", json={"enabled": False})
        assert taken.status_code == 404, taken.text
    adopted = await tenant_admin.http.post("/servers/register", json={
        "name": NAME, "url": "http://localhost:1", "type": "local"})
    assert adopted.status_code == 409, "a tenant cannot take over the system's server"
    response = await admin.http.patch(f"/servers/{NAME}", json={"batch_size": BATCH_SIZE})
    assert response.status_code == 200 and response.json()["batch_size"] == BATCH_SIZE
    yield holder
    await stack.cluster.kill(holder.worker, group=True)


def _tree(root: str, count: int) -> dict[str, bytes]:
    """`count` DOCX in each of two keyword folders, plus files the batch must leave alone."""
    files = {}
    for i in range(count):
        files[f"{root}/sales-east/r{i}.docx"] = docx(f"东区 {i}")
        files[f"{root}/2024/WEST-sales/w{i}.docx"] = docx(f"西区 {i}")
    files[f"{root}/hr/h.docx"] = docx("人事")
    files[f"{root}/sales-east/readme.txt"] = b"skip me"
    return files


async def _process(api: Api, body: dict[str, Any]) -> str:
    response = await api.http.post("/batch/process", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["task_id"])


async def test_keyword_folders_one_pdf_each_batch_size_at_a_time(local: Local) -> None:
    api = local.admin
    await upload(api, _tree("/in/a", 4))
    task_id = await _process(api, {
        "workflow_name": "docx-to-pdf", "target_folders": ["/in/a"],
        "folder_keywords": ["sales"], "selected_server": NAME, "output_root": "/out/a"})
    final = await wait_batch(api, task_id)
    assert (final["status"], final["processed_files"], final["failed_files"]) == (
        "completed", 8, 0)
    assert final["batch_size"] == BATCH_SIZE
    outputs = await listed(api, "/out/a")
    assert sorted(outputs) == sorted(
        [f"/out/a/a/sales-east/r{i}.pdf" for i in range(4)]
        + [f"/out/a/a/2024/WEST-sales/w{i}.pdf" for i in range(4)])
    for path in outputs[:2]:
        assert (await download(api, path)).startswith(b"%PDF")
    # batch_size at a time: never more in flight, and the window was used
    assert await max_in_flight(api, task_id) == BATCH_SIZE
    assert (await server(api, NAME))["current_task_id"] is None


async def test_image_workflow_thumbnails(local: Local) -> None:
    api = local.admin
    await upload(api, {"/img/shots-1/big.png": png(1200, 600),
                       "/img/shots-1/small.png": png(100, 40),
                       "/img/shots-2/not-an-image.png": b"plain text"})
    task_id = await _process(api, {
        "workflow_name": "image-thumbnail", "target_folders": ["/img"],
        "folder_keywords": ["shots"], "selected_server": NAME, "output_root": "/thumbs",
        "options": {"max_size": 256}})
    final = await wait_batch(api, task_id)
    # one file is no image: it fails on its own, the others complete
    assert (final["status"], final["engine_status"], final["processed_files"],
            final["failed_files"]) == ("completed", "partial_success", 2, 1)
    big = Image.open(io.BytesIO(await download(api, "/thumbs/img/shots-1/big.png")))
    assert big.format == "PNG" and big.size == (256, 128)
    small = Image.open(io.BytesIO(await download(api, "/thumbs/img/shots-1/small.png")))
    assert small.size == (100, 40)


async def test_killed_server_goes_offline_and_its_task_waits_for_it(
        stack: Stack, local: Local) -> None:
    api = local.admin
    await upload(api, _tree("/in/k", 8))
    task_id = await _process(api, {
        "workflow_name": "docx-to-pdf", "target_folders": ["/in/k"],
        "folder_keywords": ["sales"], "selected_server": NAME, "output_root": "/out/k"})
    await wait_batch(api, task_id, lambda t: t["processed_files"] >= 2)

    await stack.cluster.kill(local.worker, signal.SIGKILL, group=True)
    killed_at = time.monotonic()
    took = await wait_server(api, NAME, "offline", within_s=10)
    # within the documented bound, plus slack for a machine busy with other test runs
    assert took <= OFFLINE_WITHIN_S + 2.5, f"offline after {took:.1f}s"
    waiting = await wait_batch(api, task_id, lambda t: "离线" in t["message"], timeout_s=10)
    assert waiting["status"] == "running" and NAME in waiting["message"]
    assert waiting["processed_files"] < 16, "the kill must land mid-task"
    # while it is away nothing moves, and nothing fails
    await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - killed_at)))
    still = await batch(api, task_id)
    assert still["failed_files"] == 0 and still["status"] == "running"

    local.worker = await stack.cluster.restart(local.worker)
    await wait_server(api, NAME, "online", within_s=20)
    final = await wait_batch(api, task_id)
    assert (final["status"], final["processed_files"], final["failed_files"]) == (
        "completed", 16, 0)
    outputs = await listed(api, "/out/k")
    assert len(outputs) == len(set(outputs)) == 16
    # every result applied exactly once: the counters match the items
    items = (await api.http.get(f"/api/v1/tasks/{task_id}/items",
                                params={"pageSize": 100})).json()["data"]["items"]
    assert [i["status"] for i in items] == ["done"] * 16
    generic = (await api.http.get(f"/api/v1/tasks/{task_id}")).json()["data"]
    assert (generic["completedItems"], generic["inflightItems"]) == (16, 0)


async def test_a_task_waiting_for_its_server_can_be_cancelled_and_frees_it(
        stack: Stack, local: Local) -> None:
    api = local.admin
    await upload(api, _tree("/in/c", 8))
    body = {"workflow_name": "docx-to-pdf", "target_folders": ["/in/c"],
            "folder_keywords": ["sales"], "selected_server": NAME, "output_root": "/out/c"}
    task_id = await _process(api, body)
    await wait_batch(api, task_id, lambda t: t["processed_files"] >= 1)
    await stack.cluster.kill(local.worker, signal.SIGKILL, group=True)
    await wait_server(api, NAME, "offline", within_s=10)

    cancelled = await api.http.post(f"/batch/tasks/{task_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["engine_status"]) == (
        "failed", "cancelled")
    freed = await server(api, NAME)
    assert (freed["current_task_id"], freed["busy"]) == (None, False)

    # Back, it finds the cancelled task's files still queued: they start nothing, and the
    # server takes the next batch at once.
    local.worker = await stack.cluster.restart(local.worker)
    await wait_server(api, NAME, "online", within_s=20)
    after = await wait_batch(api, await _process(api, {**body, "output_root": "/out/c2"}))
    assert (after["status"], after["processed_files"]) == ("completed", 16)
    assert (await batch(api, task_id))["processed_files"] < 16
