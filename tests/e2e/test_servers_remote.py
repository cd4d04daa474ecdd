"""Batches on a remote server over the HTTP protocol (docs/remote-protocol.md), against the
reference remote server; the server going away mid-batch; redirects never followed."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.e2e.conftest import Api, Stack
from tests.e2e.servers_fixtures import (
    docx,
    download,
    listed,
    max_in_flight,
    upload,
    wait_batch,
    wait_server,
)
from tests.harness import ServiceHandle, free_port

NAME = "ref-remote"
HOST = "127.0.0.2"  # admitted by the test stack's allow-list; 127.0.0.1 is not
BATCH_SIZE = 2
# offline_after_failures (2) checks of health_interval_s (0.5 s) each, plus one round.
OFFLINE_WITHIN_S = 2 * 0.5 + 0.5


class Remote:
    def __init__(self, admin: Api, server: ServiceHandle, url: str) -> None:
        self.admin = admin
        self.server = server
        self.url = url

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.get(f"{self.url}/health")
        assert response.status_code == 200
        return dict(response.json())


async def _wait_answering(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        for _ in range(600):
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def remote(stack: Stack) -> Any:
    port = free_port()
    url = f"http://{HOST}:{port}"
    handle = await stack.cluster.start(
        "remote_reference", CONVEYOR_REMOTE_REFERENCE_HOST=HOST,
        CONVEYOR_REMOTE_REFERENCE_PORT=str(port), CONVEYOR_REMOTE_REFERENCE_MAX_PARALLEL="4")
    await _wait_answering(url)
    admin = await stack.user("acme", "ops", admin=True)
    registered = await admin.http.post("/servers/register", json={
        "name": NAME, "url": url, "type": "remote", "batch_size": BATCH_SIZE})
    assert registered.status_code == 200, registered.text
    await wait_server(admin, NAME, "online", within_s=10)
    holder = Remote(admin, handle, url)
    yield holder
    await stack.cluster.kill(holder.server, group=True)


def _tree(root: str, count: int) -> dict[str, bytes]:
    files = {}
    for i in range(count):
        files[f"{root}/sales-north/n{i}.docx"] = docx(f"北区 {i}")
        files[f"{root}/q3-Sales/s{i}.docx"] = docx(f"三季度 {i}")
    files[f"{root}/legal/l.docx"] = docx("法务")
    return files


async def _process(api: Api, root: str) -> str:
    response = await api.http.post("/batch/process", json={
        "workflow_name": "docx-to-pdf", "target_folders": [root], "folder_keywords": ["sales"],
        "selected_server": NAME, "output_root": f"/results{root}"})
    assert response.status_code == 200, response.text
    return str(response.json()["task_id"])


async def test_same_batch_through_the_remote_protocol(remote: Remote) -> None:
    api = remote.admin
    described = (await api.http.get(f"/servers/{NAME}")).json()
    assert described["type"] == "remote" and "docx-to-pdf" in described["workflows"]
    await upload(api, _tree("/remote/a", 4))
    task_id = await _process(api, "/remote/a")
    final = await wait_batch(api, task_id)
    assert (final["status"], final["processed_files"], final["failed_files"]) == (
        "completed", 8, 0)
    outputs = await listed(api, "/results/remote/a")
    assert sorted(outputs) == sorted(
        [f"/results/remote/a/a/sales-north/n{i}.pdf" for i in range(4)]
        + [f"/results/remote/a/a/q3-Sales/s{i}.pdf" for i in range(4)])
    assert (await download(api, outputs[0])).startswith(b"%PDF")
    # batch_size files at a time: as Conveyor dispatched them and as the server saw them
    assert await max_in_flight(api, task_id) == BATCH_SIZE
    assert 1 <= (await remote.health())["max_in_flight"] <= BATCH_SIZE


async def test_remote_server_away_mid_batch_then_back(stack: Stack, remote: Remote) -> None:
    api = remote.admin
    await upload(api, _tree("/remote/k", 8))
    task_id = await _process(api, "/remote/k")
    await wait_batch(api, task_id, lambda t: t["processed_files"] >= 2)

    await stack.cluster.kill(remote.server, signal.SIGKILL, group=True)
    took = await wait_server(api, NAME, "offline", within_s=10)
    # within the documented bound, plus slack for a machine busy with other test runs
    assert took <= OFFLINE_WITHIN_S + 2.5, f"offline after {took:.1f}s"
    waiting = await wait_batch(api, task_id, lambda t: "离线" in t["message"], timeout_s=10)
    assert waiting["status"] == "running" and waiting["processed_files"] < 16

    # It comes back having forgotten its batches: the bridge submits the lost one again.
    remote.server = await stack.cluster.restart(remote.server)
    await _wait_answering(remote.url)
    await wait_server(api, NAME, "online", within_s=10)
    final = await wait_batch(api, task_id)
    assert (final["status"], final["processed_files"], final["failed_files"]) == (
        "completed", 16, 0)
    assert len(await listed(api, "/results/remote/k")) == 16
    generic = (await api.http.get(f"/api/v1/tasks/{task_id}")).json()["data"]
    assert (generic["completedItems"], generic["inflightItems"]) == (16, 0)


class _Redirector(BaseHTTPRequestHandler):
    """Answers everything with a redirect to the cloud metadata address."""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer((HOST, 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_address[1]}"
    server.shutdown()


async def test_a_redirect_is_an_error_not_followed(remote: Remote, redirector: str) -> None:
    api = remote.admin
    response = await api.http.post("/servers/register", json={
        "name": "redirector", "url": redirector, "type": "remote"})
    assert response.status_code == 200, response.text
    await wait_server(api, "redirector", "error", within_s=10)
    seen = (await api.http.get("/servers/redirector")).json()
    assert "redirects are not followed" in seen["error"] and "169.254.169.254" in seen["error"]
    assert (await api.http.delete("/servers/redirector")).status_code == 200
