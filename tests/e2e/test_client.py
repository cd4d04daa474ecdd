"""The typed client library (libs/client) against the running services. The client is
synchronous: each call runs in a thread so the test's event loop (and the in-process S3
server) stays responsive."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from libs.client import Client, InvalidRequest, NotFound, Unauthorized
from libs.client.models import StreamEvent, Task
from tests.e2e.conftest import Api, Stack


def _client(stack: Stack, api: Api) -> Client:
    return Client(stack.url, api.token)


async def test_create_follow_and_read_a_task(stack: Stack, alice: Api) -> None:
    client = _client(stack, alice)
    items: list[dict[str, Any]] = [{"value": i, "sleep_ms": 20} for i in range(40)]
    task = await asyncio.to_thread(client.tasks.create, "echo", items, concurrency=4)
    assert isinstance(task, Task) and task.total_items == 40

    def follow() -> list[StreamEvent]:
        return list(client.stream.task_events(task.task_id, idle_timeout_s=30))

    events = await asyncio.to_thread(follow)
    assert events[-1].type == "task_completed" and events[-1].terminal
    assert events[-1].payload.done == 40 and events[-1].payload.progress == 100
    assert any(e.type == "task_progress" and 0 < e.payload.done < 40 for e in events)

    final = await asyncio.to_thread(client.tasks.get, task.task_id)
    assert final.status == "completed" and final.finished and final.completed_items == 40
    listed = await asyncio.to_thread(client.tasks.list, kind="echo", page_size=100)
    assert task.task_id in {t.task_id for t in listed.tasks}
    page = await asyncio.to_thread(client.tasks.items, task.task_id, page_size=10)
    assert page.total == 40 and [i.seq for i in page.items] == list(range(10))
    assert all(i.status == "done" for i in page.items)


async def test_errors_are_typed_and_carry_the_envelope(stack: Stack, alice: Api,
                                                       mallory: Api) -> None:
    client = _client(stack, alice)
    with pytest.raises(NotFound) as missing:
        await asyncio.to_thread(client.tasks.get, "no-such-task")
    assert missing.value.code == "TASK_NOT_FOUND" and missing.value.status == 404
    assert missing.value.request_id and missing.value.request_id.startswith("req_")

    task = await asyncio.to_thread(client.tasks.create, "echo", [{"value": 1}])
    await alice.wait_finished(task.task_id)
    with pytest.raises(InvalidRequest) as invalid:
        await asyncio.to_thread(client.tasks.pause, task.task_id)
    assert invalid.value.code == "INVALID_TASK_STATE"
    assert invalid.value.details["current_status"] == "completed"

    with pytest.raises(InvalidRequest) as bad:
        await asyncio.to_thread(client.tasks.create, "echo", [])
    assert bad.value.code == "VALIDATION_ERROR" and bad.value.details[0]["field"] == "items"

    other = _client(stack, mallory)
    with pytest.raises(NotFound):  # another tenant's task does not exist for them
        await asyncio.to_thread(other.tasks.get, task.task_id)
    with pytest.raises(Unauthorized) as unauthorized:
        await asyncio.to_thread(Client(stack.url, "not-a-token").tasks.list)
    assert unauthorized.value.code == "UNAUTHORIZED"
