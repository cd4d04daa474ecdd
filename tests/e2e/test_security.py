"""Authentication, tenant isolation on every route, and clear 4xx errors for bad input."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.e2e.conftest import Api, Stack

TASK_ROUTES = [
    ("GET", "/api/v1/tasks/{id}"),
    ("GET", "/api/v1/tasks/{id}/items"),
    ("GET", "/api/v1/tasks/{id}/events"),
    ("POST", "/api/v1/tasks/{id}/start"),
    ("POST", "/api/v1/tasks/{id}/pause"),
    ("POST", "/api/v1/tasks/{id}/resume"),
    ("POST", "/api/v1/tasks/{id}/cancel"),
    ("POST", "/api/v1/tasks/{id}/retry-failed"),
    ("GET", "/api/v1/generate/status/{id}"),
    ("POST", "/api/v1/generate/cancel/{id}"),
]


async def test_another_tenant_gets_404_on_every_task_route(alice: Api, mallory: Api) -> None:
    task = await alice.create_echo([{"value": 1, "sleep_ms": 200}] * 3, autoStart=False)
    for method, route in TASK_ROUTES:
        response = await mallory.http.request(method, route.format(id=task["taskId"]))
        assert response.status_code == 404, (method, route, response.text)
        assert response.json()["error"]["code"] == "TASK_NOT_FOUND"
    listed = (await mallory.http.get("/api/v1/tasks")).json()["data"]["tasks"]
    assert task["taskId"] not in {t["taskId"] for t in listed}
    assert (await alice.task(task["taskId"]))["status"] == "pending", "untouched by mallory"


async def test_another_tenant_cannot_subscribe_to_its_events(
    stack: Stack, alice: Api, mallory: Api
) -> None:
    task = await alice.create_echo([{"value": 1}] * 5, autoStart=False)
    spy = await stack.open_stream(mallory)
    await spy.send({"action": "subscribe", "filters": {"taskId": task["taskId"]}})
    error = await spy.wait_for("error")
    assert error["payload"]["code"] == "TASK_NOT_FOUND"
    await spy.send({"action": "subscribe", "channels": ["task_progress", "items"]})  # all tasks
    await spy.wait_for("subscribed")
    await alice.command(task["taskId"], "start")
    await alice.wait_finished(task["taskId"])
    await asyncio.sleep(0.3)
    leaked = [m for m in spy.messages if m.get("payload", {}).get("taskId") == task["taskId"]]
    assert leaked == []
    await spy.close()
    spied = await stack.open_stream(mallory, f"/v2/stream/{task['taskId']}")
    assert (await spied.wait_for("error"))["payload"]["code"] == "TASK_NOT_FOUND"
    await spied.close()


async def test_requests_without_a_valid_token_get_401(stack: Stack) -> None:
    for token in (None, "cvr_not-a-real-token"):
        anonymous = Api(stack.url, token)
        for method, route in [("GET", "/api/v1/tasks"), ("POST", "/api/v1/tasks"),
                              *TASK_ROUTES]:
            response = await anonymous.http.request(method, route.format(id="x"))
            assert response.status_code == 401, (method, route)
            body = response.json()
            assert body["error"]["code"] == "UNAUTHORIZED" and body["success"] is False
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(stack.url.replace("http", "ws") + "/v2/stream"):
            pass
    health = await httpx.AsyncClient().get(stack.url + "/api/v2/health")
    assert health.status_code == 200, "health needs no token"


@pytest.mark.parametrize(("body", "field"), [
    ({"items": [{}]}, "kind"),
    ({"kind": "echo"}, "items"),
    ({"kind": "echo", "items": []}, "items"),
    ({"kind": "echo", "items": [{}], "concurrency": "many"}, "concurrency"),
    ({"kind": "echo", "items": [{}], "concurrency": 0}, "concurrency"),
    ({"kind": "echo", "items": "nope"}, "items"),
    ({"kind": "nope", "items": [{}]}, "kind"),
    ({"kind": "echo", "items": [{}], "surprise": 1}, "surprise"),
])
async def test_bad_bodies_get_400_naming_the_field(
    alice: Api, body: dict[str, object], field: str
) -> None:
    response = await alice.http.post("/api/v1/tasks", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in error["details"]}, error
    assert field in error["message"]


async def test_too_many_items_gets_400_naming_items(alice: Api) -> None:
    response = await alice.http.post("/api/v1/tasks", json={
        "kind": "echo", "items": [{}] * 100_001})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "items"


async def test_oversized_body_gets_413(alice: Api) -> None:
    response = await alice.http.post("/api/v1/tasks", json={
        "kind": "echo", "items": [{"value": "x" * 1000}] * 3000})  # ~3 MB over a 2 MB limit
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(("params", "field"), [
    ({"pageSize": 1000}, "pageSize"),
    ({"pageNum": 0}, "pageNum"),
    ({"status": "sleeping"}, "status"),
])
async def test_bad_query_parameters_get_400(
    alice: Api, params: dict[str, object], field: str
) -> None:
    response = await alice.http.get("/api/v1/tasks", params=params)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]


async def test_malformed_json_gets_400(alice: Api) -> None:
    response = await alice.http.post("/api/v1/tasks", content=b"{not json",
                                      headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
