"""Helpers of the seed 004 tests: files built in the test, uploads, waiting for servers and
batches, and the in-flight count a batch reached."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime
from typing import Any

import httpx
from PIL import Image

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.harness import ServiceHandle

FINISHED = ("completed", "failed")


def docx(text: str) -> bytes:
    return template(text, "第二段 " * 40)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def upload(api: Api, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        response = await api.http.put(f"/files{path}", content=content)
        assert response.status_code == 201, response.text


async def download(api: Api, path: str) -> bytes:
    response = await api.http.get(f"/files{path}")
    assert response.status_code == 302, response.text
    async with httpx.AsyncClient() as plain:  # the presigned URL needs no token
        fetched = await plain.get(response.headers["location"])
    assert fetched.status_code == 200
    return fetched.content


async def listed(api: Api, prefix: str) -> list[str]:
    response = await api.http.get("/files", params={"prefix": prefix})
    assert response.status_code == 200, response.text
    return [f["path"] for f in response.json()["files"]]


async def server(api: Api, name: str) -> dict[str, Any]:
    response = await api.http.get(f"/servers/{name}")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_server(api: Api, name: str, status: str, within_s: float) -> float:
    """Seconds until the server shows `status`."""
    started = time.monotonic()
    while (current := await server(api, name))["status"] != status:
        assert time.monotonic() - started < within_s, f"{name} still {current}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def batch(api: Api, task_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/batch/tasks/{task_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_batch(api: Api, task_id: str, check: Any = None,
                     timeout_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        current = await batch(api, task_id)
        if (check or (lambda t: t["status"] in FINISHED))(current):
            return current
        assert time.monotonic() < deadline, f"timed out; last state {current}"
        await asyncio.sleep(0.1)


async def max_in_flight(api: Api, task_id: str) -> int:
    """The most items the task ever had between claim and settle at once, from each item's
    start and finish as the engine recorded them."""
    response = await api.http.get(f"/api/v1/tasks/{task_id}/items",
                                  params={"pageSize": 1000})
    assert response.status_code == 200, response.text
    items = response.json()["data"]["items"]
    edges = []
    for item in items:
        assert item["startedAt"] and item["finishedAt"], item
        edges.append((datetime.fromisoformat(item["startedAt"]), 1))
        edges.append((datetime.fromisoformat(item["finishedAt"]), -1))
    peak = current = 0
    for _, delta in sorted(edges, key=lambda e: (e[0], e[1])):  # a finish before a start
        current += delta
        peak = max(peak, current)
    return peak


async def start_docrender(stack: Stack, name: str, **overrides: str) -> ServiceHandle:
    handle = await stack.cluster.start(
        "docrender", CONVEYOR_INSTANCE_NAME=name, CONVEYOR_DOCRENDER_OFFICE_INSTANCES="1",
        CONVEYOR_DOCRENDER_RENDER_PROCESSES="1", **overrides)
    await stack.cluster.wait_for_log(handle, "worker.ready")
    return handle
