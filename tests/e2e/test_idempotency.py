"""`Idempotency-Key` on create routes: a replay returns the original (same task), a different
body with the key is 409, keys are per user, and a slides client whose gateway died during a
waiting generate re-sends and gets its batch instead of a second one."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.e2e.slides_support import deck, start_slides


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _count(api: Api, kind: str) -> int:
    response = await api.http.get("/api/v1/tasks", params={"kind": kind, "pageSize": 1})
    total: int = response.json()["data"]["total"]
    return total


async def test_a_replayed_create_returns_the_same_task(alice: Api, mallory: Api) -> None:
    headers = _key()
    body: dict[str, Any] = {"kind": "echo", "items": [{"value": 1}, {"value": 2}]}
    before = await _count(alice, "echo")
    first = await alice.http.post("/api/v1/tasks", json=body, headers=headers)
    assert first.status_code == 200, first.text
    # The same request, serialised differently (key order, spacing): still the same request.
    again = await alice.http.post(
        "/api/v1/tasks", headers={**headers, "content-type": "application/json"},
        content=b'{"items": [{"value": 1}, {"value": 2}],   "kind": "echo"}')
    assert again.status_code == 200, again.text
    assert again.json()["data"]["taskId"] == first.json()["data"]["taskId"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(alice, "echo") == before + 1

    changed = await alice.http.post("/api/v1/tasks", headers=headers,
                                    json={**body, "items": [{"value": 3}]})
    assert changed.status_code == 409, changed.text
    assert changed.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    theirs = await mallory.http.post("/api/v1/tasks", json=body, headers=headers)
    assert theirs.status_code == 200  # keys are per user: another user's key is theirs
    assert theirs.json()["data"]["taskId"] != first.json()["data"]["taskId"]


async def test_a_refused_create_releases_its_key_and_bad_keys_are_400(alice: Api) -> None:
    headers = _key()
    refused = await alice.http.post("/api/v1/tasks", headers=headers,
                                    json={"kind": "no-such-kind", "items": [{}]})
    assert refused.status_code == 400
    fixed = await alice.http.post("/api/v1/tasks", headers=headers,
                                  json={"kind": "echo", "items": [{}]})
    assert fixed.status_code == 200, fixed.text
    bad = await alice.http.post("/api/v1/tasks", headers={"Idempotency-Key": "x" * 256},
                                json={"kind": "echo", "items": [{}]})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["error"]["message"]


async def test_an_upload_replayed_with_another_multipart_boundary_is_the_same(
    alice: Api
) -> None:
    headers = _key()
    content = template("幂等 {{ n }}")
    first = await alice.http.post("/api/v2/templates", headers=headers,
                                  files={"file": ("t.docx", content)})
    assert first.status_code == 201, first.text
    again = await alice.http.post("/api/v2/templates", headers=headers,  # a new boundary
                                  files={"file": ("t.docx", content)})
    assert again.status_code == 201
    assert again.json()["data"]["templateId"] == first.json()["data"]["templateId"]


async def test_slides_client_resends_after_the_gateway_died_and_gets_its_batch(
    stack: Stack, alice: Api
) -> None:
    slides = await start_slides(stack)
    before = await _count(alice, "slides")
    headers = _key()
    body = {"slides": deck(10, f"idem-{uuid.uuid4().hex[:6]}"), "max_workers": 1}
    waiting = asyncio.create_task(alice.http.post("/api/slide/batch/generate", json=body,
                                                  headers=headers, timeout=120))
    for _ in range(400):  # until the batch exists (the client is then waiting for it)
        if await _count(alice, "slides") > before:
            break
        await asyncio.sleep(0.05)
    gateway = stack.cluster.gateway
    await stack.cluster.kill(gateway, signal.SIGKILL)
    try:
        await waiting
        raise AssertionError("the request survived its gateway")
    except httpx.TransportError:
        pass  # what the client sees: a dropped connection, no batch_id
    await stack.cluster.restart(gateway)

    resent = await alice.http.post("/api/slide/batch/generate", json=body, headers=headers,
                                   timeout=120)
    assert resent.status_code == 200, resent.text
    answer = resent.json()
    assert answer["total_slides"] == 10 and answer["successful"] == 10
    assert await _count(alice, "slides") == before + 1, "the re-send made a second batch"
    replayed = await alice.http.post("/api/slide/batch/generate", json=body, headers=headers)
    assert replayed.json()["batch_id"] == answer["batch_id"]
    assert replayed.headers["idempotent-replayed"] == "true"
    await stack.cluster.kill(slides)
