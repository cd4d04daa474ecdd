"""Seed 004 through the gateway: the seed's curl examples as written (plus a token), the
documented errors (400, 404, 409, 503), admin-only registration and the URL policy."""

from __future__ import annotations

from typing import Any

import pytest_asyncio

from tests.e2e.conftest import Api, Stack
from tests.e2e.servers_fixtures import (
    docx,
    download,
    listed,
    start_docrender,
    upload,
    wait_batch,
    wait_server,
)
from tests.harness import ServiceHandle

# The seed's examples, byte for byte.
REGISTER = {"name": "server1", "url": "http://localhost:8001", "type": "local",
            "enabled": True, "batch_size": 5}
BATCH = {"workflow_name": "workflow1", "target_folders": ["/path/to/folders"],
         "folder_keywords": ["keyword1", "keyword2"], "selected_server": "server1",
         "output_root": "/path/to/output"}
SEED_SERVER_KEYS = ["name", "url", "type", "enabled", "batch_size", "status", "current_task_id"]
SEED_TASK_KEYS = ["task_id", "status", "message", "created_at", "updated_at", "progress",
                  "server_name"]
FOLDERS = {
    "/path/to/folders/keyword1-reports/a.docx": docx("甲"),
    "/path/to/folders/keyword1-reports/b.docx": docx("乙"),
    "/path/to/folders/2024-KEYWORD2/nested/c.docx": docx("丙"),
    "/path/to/folders/keyword1-reports/notes.txt": b"not a document",
    "/path/to/folders/unrelated/d.docx": docx("丁"),
}


class Seed:
    def __init__(self, admin: Api, registered: dict[str, Any], worker: ServiceHandle) -> None:
        self.admin = admin
        self.registered = registered
        self.worker = worker


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seed(stack: Stack) -> Any:
    """Register `server1` as the seed does, then start the worker instance it names: a
    docrender that also publishes docx-to-pdf as `workflow1`."""
    admin = await stack.user("acme", "ops", admin=True)
    response = await admin.http.post("/servers/register", json=REGISTER)
    assert response.status_code == 200, response.text
    worker = await start_docrender(stack, "server1", CONVEYOR_DOCRENDER_WORKFLOWS=(
        "docx-to-pdf,image-thumbnail,workflow1=docx-to-pdf"))
    await wait_server(admin, "server1", "online", within_s=15)
    yield Seed(admin, response.json(), worker)
    await stack.cluster.kill(worker, group=True)


async def test_seed_examples_as_written(seed: Seed) -> None:
    api = seed.admin
    # 1.1 register: the documented response, offline until its instance heartbeats
    assert {k: seed.registered[k] for k in SEED_SERVER_KEYS} == {
        **REGISTER, "status": "offline", "current_task_id": None}
    # 1.2 list
    servers = (await api.http.get("/servers")).json()
    listed_server = next(s for s in servers if s["name"] == "server1")
    assert {k: listed_server[k] for k in SEED_SERVER_KEYS} == {
        **REGISTER, "status": "online", "current_task_id": None}
    assert "workflow1" in listed_server["workflows"]

    await upload(api, FOLDERS)
    # 2.1 check
    check = await api.http.post("/batch/check-server", json=BATCH)
    assert check.status_code == 200, check.text
    assert {k: check.json()[k] for k in ("available", "server_name", "batch_size", "message")} \
        == {"available": True, "server_name": "server1", "batch_size": 5, "message": "服务器可用"}
    assert check.json()["total_files"] == 3
    # 2.2 process
    started = await api.http.post("/batch/process", json=BATCH)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "pending" and body["message"] == "批处理任务已启动"
    assert body["server_name"] == "server1" and body["created_at"]
    # 2.3 status
    status = (await api.http.get(f"/batch/tasks/{body['task_id']}")).json()
    assert list(status)[:len(SEED_TASK_KEYS)] == SEED_TASK_KEYS
    assert status["status"] in ("pending", "running", "completed")
    assert 0.0 <= status["progress"] <= 1.0
    final = await wait_batch(api, body["task_id"])
    assert (final["status"], final["progress"], final["processed_files"]) == ("completed", 1.0, 3)
    # 2.4 list
    tasks = (await api.http.get("/batch/tasks")).json()
    assert body["task_id"] in [t["task_id"] for t in tasks]
    # results: one PDF per DOCX of the keyword folders, under output_root, nothing else
    assert sorted(await listed(api, "/path/to/output")) == [
        "/path/to/output/folders/2024-KEYWORD2/nested/c.pdf",
        "/path/to/output/folders/keyword1-reports/a.pdf",
        "/path/to/output/folders/keyword1-reports/b.pdf",
    ]
    assert (await download(api, "/path/to/output/folders/keyword1-reports/a.pdf")
            ).startswith(b"%PDF")
    # the task ended, so the server is free again
    assert (await api.http.get("/servers/server1")).json()["current_task_id"] is None


async def test_documented_errors(seed: Seed, alice: Api, mallory: Api) -> None:
    api = seed.admin
    duplicate = await api.http.post("/servers/register", json=REGISTER)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "SERVER_EXISTS"
    assert "server1" in duplicate.json()["detail"]
    bad = await api.http.post("/servers/register", json={**REGISTER, "name": "x",
                                                          "batch_size": 0})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "batch_size"
    assert (await alice.http.post("/servers/register", json={**REGISTER, "name": "mine"})
            ).status_code == 403
    assert (await alice.http.patch("/servers/server1", json={"enabled": False})
            ).status_code == 403

    for route in ("/batch/check-server", "/batch/process"):
        unknown = await api.http.post(route, json={**BATCH, "selected_server": "nope"})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["code"] == "SERVER_NOT_FOUND"
        no_flow = await api.http.post(route, json={**BATCH, "workflow_name": "nope"})
        assert no_flow.status_code == 404 and no_flow.json()["error"]["code"] == \
            "WORKFLOW_NOT_FOUND"
    assert (await api.http.get("/servers/nope")).status_code == 404
    assert (await api.http.get("/batch/tasks/00000000-0000-0000-0000-000000000000")
            ).status_code == 404

    # offline: registered, but no instance of that name runs
    ghost = await api.http.post("/servers/register", json={**REGISTER, "name": "ghost"})
    assert ghost.json()["status"] == "offline"
    offline = await api.http.post("/batch/process", json={**BATCH, "selected_server": "ghost"})
    assert offline.status_code == 503 and offline.json()["error"]["code"] == \
        "SERVER_UNAVAILABLE"
    check = await api.http.post("/batch/check-server", json={**BATCH, "selected_server": "ghost"})
    assert check.status_code == 400 and check.json()["error"]["details"]["available"] is False
    assert (await api.http.delete("/servers/ghost")).status_code == 200
    assert (await api.http.get("/servers/ghost")).status_code == 404

    # disabled, then enabled again
    assert (await api.http.patch("/servers/server1", json={"enabled": False})).json()[
        "enabled"] is False
    disabled = await api.http.post("/batch/process", json=BATCH)
    assert disabled.status_code == 503 and disabled.json()["error"]["code"] == "SERVER_DISABLED"
    await api.http.patch("/servers/server1", json={"enabled": True})

    # busy: one task per server; the second is refused while the first holds it
    await upload(api, FOLDERS)
    first = (await api.http.post("/batch/process", json=BATCH)).json()
    busy = await api.http.post("/batch/process", json=BATCH)
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "SERVER_BUSY"
    assert first["task_id"] in busy.json()["detail"]
    held = (await api.http.get("/servers/server1")).json()
    assert held["current_task_id"] == first["task_id"] and held["busy"] is True
    # a member who does not own the task sees that the server is busy, not with what
    seen = (await alice.http.get("/servers/server1")).json()
    assert seen["current_task_id"] is None and seen["busy"] is True
    # another tenant does not see the server at all
    assert (await mallory.http.get("/servers/server1")).status_code == 404
    assert (await api.http.delete("/servers/server1")).status_code == 409
    await wait_batch(api, first["task_id"])

    # request problems are 400s that name the field
    for change, field in (({"output_root": "/path/to/folders/out"}, "output_root"),
                          ({"target_folders": ["/path/../etc"]}, "target_folders"),
                          ({"batch_size": 5}, "batch_size")):  # not a field of this body
        response = await api.http.post("/batch/process", json={**BATCH, **change})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"][0]["field"] == field, response.text
    empty = await api.http.post("/batch/process", json={**BATCH, "folder_keywords": ["zzz"]})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "NO_FILES"


async def test_files_belong_to_their_tenant(seed: Seed, mallory: Api) -> None:
    await upload(seed.admin, {"/private/kw/a.docx": docx("机密")})
    uploaded = await seed.admin.http.put("/files/private/kw/b.docx", content=docx("二"),
                                         headers={"Content-Type": "application/octet-stream"})
    assert uploaded.json()["content_type"].endswith("wordprocessingml.document")
    assert await listed(mallory, "/private") == []
    assert (await mallory.http.get("/files/private/kw/a.docx")).status_code == 404
    assert (await mallory.http.delete("/files/private/kw/a.docx")).status_code == 404
    assert (await mallory.http.get("/files/../x")).status_code in (400, 404)
    theirs = await mallory.http.post("/batch/check-server", json={
        **BATCH, "workflow_name": "docx-to-pdf", "target_folders": ["/private"],
        "folder_keywords": ["kw"], "output_root": "/stolen"})
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "SERVER_NOT_FOUND"
    assert len(await listed(seed.admin, "/private")) == 2


async def test_only_the_owner_tenant_changes_or_deletes_a_server(seed: Seed,
                                                                 stack: Stack) -> None:
    other_admin = await stack.user("evil-corp", "root", admin=True)
    assert (await other_admin.http.get("/servers/server1")).status_code == 404, "invisible"
    for method, body in (("PATCH", {"enabled": False}), ("DELETE", None)):
        response = await other_admin.http.request(method, "/servers/server1", json=body)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "SERVER_NOT_FOUND"
    theirs = await other_admin.http.post("/servers/register", json={
        "name": "theirs", "url": "http://127.0.0.2:9", "type": "remote"})
    assert theirs.status_code == 200, theirs.text
    assert (await seed.admin.http.delete("/servers/theirs")).status_code == 404
    assert (await other_admin.http.delete("/servers/theirs")).status_code == 200
    server = (await seed.admin.http.get("/servers/server1")).json()
    assert server["enabled"] is True and server["batch_size"] == 5, "untouched"


async def test_remote_urls_must_be_public_unless_allow_listed(seed: Seed) -> None:
    api = seed.admin
    refused = {
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://127.0.0.1:8001": "loopback",  # the allow-list admits 127.0.0.2 only
        "http://localhost:8001": "loopback",
        "http://[::1]:8001": "loopback",
        "http://2130706433:8001": "loopback",  # 127.0.0.1 spelled as a number
        "http://10.0.0.7": "private",
        "http://[::ffff:169.254.169.254]/": "link-local",
        "ftp://example.com/": "http and https",
        "http://user:secret@example.com/": "credentials",
    }
    for url, reason in refused.items():
        response = await api.http.post("/servers/register", json={
            "name": "evil", "url": url, "type": "remote"})
        assert response.status_code == 400, (url, response.text)
        body = response.json()
        assert body["error"]["code"] == "URL_REFUSED" and reason in body["detail"], body
    assert (await api.http.get("/servers/evil")).status_code == 404
