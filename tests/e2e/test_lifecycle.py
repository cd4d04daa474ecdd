"""A task's life through the gateway: start, watch, pause, resume, cancel, retry."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import Api, Stack


def _items(count: int, sleep_ms: int = 0, **extra: object) -> list[dict[str, object]]:
    return [{"value": i, "sleep_ms": sleep_ms, **extra} for i in range(count)]


async def test_200_items_paused_resumed_and_completed_over_websocket(
    stack: Stack, alice: Api
) -> None:
    task = await alice.create_echo(_items(200, sleep_ms=40), concurrency=8, autoStart=False)
    task_id = task["taskId"]
    assert task["status"] == "pending"
    stream = await stack.open_stream(alice)
    await stream.send({"action": "subscribe", "channels": ["task_progress", "items"],
                       "filters": {"taskId": task_id}})
    await stream.wait_for("subscribed")

    started = await alice.command(task_id, "start")
    assert started.json()["data"]["status"] == "running"
    await stream.wait_for("task_started")
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 40)

    paused = await alice.command(task_id, "pause")
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    await stream.wait_for("task_paused")
    await asyncio.sleep(1.0)  # in-flight items finish; nothing new may start
    frozen = (await alice.task(task_id))["completedItems"]
    await asyncio.sleep(0.5)
    assert (await alice.task(task_id))["completedItems"] == frozen < 200

    late = await stack.items_started_while_paused(task_id)
    assert late == 0, "an item started after the pause was acknowledged"

    resumed = await alice.command(task_id, "resume")
    assert resumed.json()["data"]["status"] == "running"
    completed = await stream.wait_for("task_completed")
    assert completed["payload"]["status"] == "completed"
    assert completed["payload"]["current"] == completed["payload"]["total"] == 200
    final = await alice.task(task_id)
    assert (final["status"], final["completedItems"], final["failedItems"]) == ("completed", 200, 0)
    assert final["agents"][0]["status"] == "completed" and final["usage"] == {"items": 200.0}

    settled = [i["seq"] for m in stream.messages if m["type"] == "items_settled"
               for i in m["payload"]["items"]]
    assert sorted(settled) == list(range(200)), "every item settles exactly once"
    types = stream.types()
    assert {"task_started", "task_progress", "task_paused", "task_resumed",
            "task_completed"} <= set(types)
    await stream.close()


async def test_cancel_midway_reports_done_count_and_discards_the_rest(alice: Api) -> None:
    task = await alice.create_echo(_items(200, sleep_ms=30), concurrency=5)
    task_id = task["taskId"]
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 20)
    response = await alice.command(task_id, "cancel")
    assert response.status_code == 200
    cancelled = response.json()["data"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["completedItems"] >= 20
    assert cancelled["completedItems"] + cancelled["cancelledItems"] == 200
    await asyncio.sleep(0.5)  # results of in-flight items arrive and are discarded
    final = await alice.task(task_id)
    assert final["completedItems"] == cancelled["completedItems"]
    assert final["status"] == "cancelled" and final["inflightItems"] == 0

    again = await alice.command(task_id, "cancel")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "INVALID_TASK_STATE"
    assert "cancelled" in again.json()["message"]


async def test_retryable_failures_are_retried_with_backoff(alice: Api) -> None:
    task = await alice.create_echo(_items(5, fail_attempts=2), maxAttempts=3)
    final = await alice.wait_finished(task["taskId"])
    assert (final["status"], final["completedItems"]) == ("completed", 5)
    items = (await alice.http.get(f"/api/v1/tasks/{task['taskId']}/items")).json()["data"]
    assert {i["attempt"] for i in items["items"]} == {3}


async def test_partial_success_and_retry_failed_as_a_linked_task(alice: Api) -> None:
    items = _items(6) + [{"value": "bad", "fail": "permanent"}] * 2
    task = await alice.create_echo(items)
    final = await alice.wait_finished(task["taskId"])
    assert (final["status"], final["completedItems"], final["failedItems"]) == (
        "partial_success", 6, 2)
    response = await alice.command(task["taskId"], "retry-failed")
    assert response.status_code == 200, response.text
    retry = response.json()["data"]
    assert retry["retryItemCount"] == 2 and retry["itemSeqs"] == [6, 7]
    child = await alice.wait_finished(retry["newTaskId"])
    assert child["parentTaskId"] == task["taskId"] and child["totalItems"] == 2


async def test_continue_on_error_false_stops_at_the_first_failure(alice: Api) -> None:
    items = [{"value": 0, "fail": "permanent"}, *_items(50, sleep_ms=50)]
    task = await alice.create_echo(items, concurrency=1, continueOnError=False)
    final = await alice.wait_finished(task["taskId"])
    assert final["status"] == "failed"
    assert final["failedItems"] == 1 and final["cancelledItems"] == 50
    assert final["errorMessage"] == "asked to fail"


async def test_item_timeout_fails_the_item(alice: Api) -> None:
    task = await alice.create_echo(_items(2, sleep_ms=3000), itemTimeoutSeconds=1, maxAttempts=1)
    final = await alice.wait_finished(task["taskId"], timeout_s=20)
    assert (final["status"], final["failedItems"]) == ("failed", 2)
    items = (await alice.http.get(f"/api/v1/tasks/{task['taskId']}/items")).json()["data"]
    assert all("timed out" in i["error"] for i in items["items"])


async def test_task_timeout_fails_the_task(alice: Api) -> None:
    task = await alice.create_echo(_items(20, sleep_ms=300), concurrency=1, timeoutSeconds=1)
    final = await alice.wait_finished(task["taskId"], timeout_s=20)
    assert final["status"] == "failed" and "timed out" in final["errorMessage"]
    assert final["cancelledItems"] > 0


async def test_lists_are_paginated_per_user_with_status_filter(stack: Stack) -> None:
    bob = await stack.user("acme", "bob")
    ids = [(await bob.create_echo(_items(1)))["taskId"] for _ in range(3)]
    for task_id in ids:
        await bob.wait_finished(task_id)
    page = (await bob.http.get("/api/v1/tasks", params={"pageNum": 1, "pageSize": 2,
                                                        "status": "completed"})).json()["data"]
    assert (page["total"], page["pageSize"], page["pages"], len(page["tasks"])) == (3, 2, 2, 2)
    assert page["tasks"][0]["taskId"] == ids[-1]  # newest first
    seed002 = (await bob.http.get("/api/v1/generate/tasks")).json()
    assert seed002["code"] == 200 and seed002["data"]["total"] == 3
    status = (await bob.http.get(f"/api/v1/generate/status/{ids[0]}")).json()["data"]
    assert status["status"] == "completed" and status["progress"] == 100


async def test_sse_streams_a_task_until_it_ends(alice: Api) -> None:
    task = await alice.create_echo(_items(20, sleep_ms=20), concurrency=2)
    events = []
    async with alice.http.stream("GET", f"/api/v1/tasks/{task['taskId']}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
    assert events[0] == "task_progress" and events[-1] == "task_completed"


async def test_finalize_step_runs_once_items_settle(alice: Api) -> None:
    task = await alice.create_echo(_items(30), finalize=True)
    final = await alice.wait_finished(task["taskId"])
    assert final["status"] == "completed"
    assert [a["agentType"] for a in final["agents"]] == ["process", "finalize"]
    assert all(a["status"] == "completed" for a in final["agents"])
    failing = await alice.create_echo(_items(3), finalize=True,
                                      params={"finalize_fail": "permanent"})
    failed = await alice.wait_finished(failing["taskId"])
    assert failed["status"] == "failed"
    assert failed["errorMessage"] == "finalization failed: asked to fail finalization"
    assert failed["agents"][1]["status"] == "failed"
