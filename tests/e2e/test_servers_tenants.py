"""Servers belong to tenants: a tenant's batch never reaches another tenant's server (404, as
for a name never registered, and the server gets nothing); an operator's shared server runs
everyone's batches with URLs that cover exactly the batch's files for minutes, logged without
their signature; a server un-shared mid-task gets none of the task's later files."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.e2e.conftest import Api, Stack
from tests.e2e.fake_remote import FakeRemote, expires_in, fake_remote
from tests.e2e.servers_fixtures import download, listed, upload, wait_batch, wait_server

PRESIGN_TTL_S = 600  # the registry's default


def _batch(server: str, folder: str, output_root: str) -> dict[str, Any]:
    return {"workflow_name": "copy-text", "target_folders": [folder],
            "selected_server": server, "output_root": output_root}


async def _register(admin: Api, name: str, fake: FakeRemote, **fields: Any) -> dict[str, Any]:
    response = await admin.http.post("/servers/register", json={
        "name": name, "url": fake.url, "type": "remote", **fields})
    assert response.status_code == 200, response.text
    await wait_server(admin, name, "online", within_s=10)
    return dict(response.json())


async def _process(api: Api, body: dict[str, Any]) -> str:
    response = await api.http.post("/batch/process", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["task_id"])


def _error(response: Any, name: str) -> dict[str, Any]:
    """The error without what differs between any two requests (request id, time, name)."""
    error = response.json()["error"]
    return {"status": response.status_code, "code": error["code"],
            "message": error["message"].replace(name, "<name>"), "details": error["details"]}


async def test_a_batch_on_another_tenants_server_is_refused_as_unknown(stack: Stack) -> None:
    evil = await stack.user("i21-evil", "root", admin=True)
    victim = await stack.user("i21-victim", "ops", admin=True)
    with fake_remote() as fake:
        await _register(evil, "evil-box", fake)
        await upload(victim, {"/contracts/2026/secret-contract.txt": b"the secret terms"})
        body = _batch("evil-box", "/contracts", "/exfiltrated")
        for route in ("/batch/check-server", "/batch/process"):
            refused = await victim.http.post(route, json=body)
            unknown = await victim.http.post(route, json={**body, "selected_server": "nobox"})
            assert refused.status_code == 404, refused.text
            assert _error(refused, "evil-box") == _error(unknown, "nobox")
        for method, change in (("GET", None), ("PATCH", {"enabled": False}), ("DELETE", None)):
            seen = await victim.http.request(method, "/servers/evil-box", json=change)
            assert _error(seen, "evil-box") == _error(
                await victim.http.request(method, "/servers/nobox", json=change), "nobox")
        assert "evil-box" not in [s["name"] for s in (await victim.http.get("/servers")).json()]
        # Nor may a tenant admin share a server to receive everyone's files.
        shared = await evil.http.patch("/servers/evil-box", json={"shared": True})
        assert shared.status_code == 403 and shared.json()["error"]["code"] == "FORBIDDEN"
        assert (await evil.http.post("/servers/register", json={
            "name": "evil-box-2", "url": fake.url, "type": "remote", "shared": True})
                ).status_code == 403

        # The server works, for its own tenant: it would have taken the victim's batch.
        await upload(evil, {"/bait/x/own.txt": b"evil's own file"})
        task_id = await _process(evil, _batch("evil-box", "/bait", "/out"))
        assert (await wait_batch(evil, task_id))["processed_files"] == 1
        assert await download(evil, "/out/bait/x/own.out") == b"evil's own file"
    # Only evil's own batch ever reached it.
    assert [body["batch_id"].startswith(task_id) for body in fake.batches] == [True]
    assert not [url for url in fake.presigned() if "secret-contract" in url]


async def test_an_operator_shared_server_runs_everyones_batches(stack: Stack) -> None:
    operator = await stack.user("operator", "i21-ops", admin=True)
    guest = await stack.user("i21-guest", "ops")
    files = {"/in/q1/a.txt": b"alpha", "/in/q2/b.txt": b"beta", "/in/q2/skip.docx": b"no"}
    with fake_remote() as fake:
        described = await _register(operator, "shared-box", fake, shared=True, batch_size=1)
        assert described["shared"] is True
        assert "shared-box" in [s["name"] for s in (await guest.http.get("/servers")).json()]
        await upload(guest, files)
        task_id = await _process(guest, _batch("shared-box", "/in", "/copies"))
        final = await wait_batch(guest, task_id)
        assert (final["status"], final["processed_files"], final["failed_files"]) == (
            "completed", 2, 0)
    assert await download(guest, "/copies/in/q2/b.out") == b"beta"
    # Exactly the batch's files, one GET per input and one PUT per output, for minutes.
    objects = sorted(unquote(urlsplit(url).path).split("/", 4)[-1] for url in fake.presigned())
    assert objects == ["copies/in/q1/a.out", "copies/in/q2/b.out", "in/q1/a.txt", "in/q2/b.txt"]
    assert {expires_in(url) for url in fake.presigned()} == {PRESIGN_TTL_S}
    # Logged per batch, as object keys: no signature reaches the registry's log.
    registry = next(h for h in stack.cluster.handles if h.name == "registry")
    log = registry.log.read_text(errors="replace")
    for body in fake.batches:
        assert body["batch_id"] in log
    signatures = [parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
                  for url in fake.presigned()]
    assert signatures and not [s for s in signatures if s in log]

    # Not shared any more: for the guest the server no longer exists.
    assert (await operator.http.patch("/servers/shared-box", json={"shared": False})
            ).json()["shared"] is False
    assert (await guest.http.get("/servers/shared-box")).status_code == 404
    assert (await operator.http.delete("/servers/shared-box")).status_code == 200


async def _wait(condition: Any, within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_a_server_unshared_mid_task_gets_none_of_its_later_files(stack: Stack) -> None:
    operator = await stack.user("operator", "i21-ops2", admin=True)
    guest = await stack.user("i21-guest2", "ops")
    with fake_remote() as fake:
        await _register(operator, "unshared-box", fake, shared=True, batch_size=1)
        await upload(guest, {"/mid/a/1.txt": b"one", "/mid/a/2.txt": b"two"})
        fake.hold.clear()  # the first batch stays running
        task_id = await _process(guest, _batch("unshared-box", "/mid", "/mid-out"))
        await _wait(lambda: len(fake.batches) == 1)
        assert (await operator.http.patch("/servers/unshared-box", json={"shared": False})
                ).status_code == 200
        fake.hold.set()
        final = await wait_batch(guest, task_id)
        assert (final["processed_files"], final["failed_files"]) == (1, 1), final
    assert len(fake.batches) == 1, "the second file's URLs never left Conveyor"
    assert len(await listed(guest, "/mid-out")) == 1
    items = (await guest.http.get(f"/api/v1/tasks/{task_id}/items")).json()["data"]["items"]
    assert [i["error"] for i in items if i["error"]] == [
        "server unshared-box does not run this tenant's batches"]
    assert (await operator.http.delete("/servers/unshared-box")).status_code == 200
