"""Shared by the knowledge-base end-to-end tests: the ingester process, uploads, and seed
003's own polling example."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import requests

from tests.e2e.conftest import Api, Stack
from tests.harness.cluster import ServiceHandle

# What seed 003 documents for current_step (a failed or cancelled task says so too).
STEP_FORMS = re.compile(
    r"^(正在下载文档 .+ \(\d+/\d+\)|正在转换(PDF|DOCX|HTML|Markdown|TXT) .+ \(\d+/\d+\)"
    r"|正在处理图片 \d+/\d+|正在分块 .+ \(\d+/\d+\)|正在向量化 .+ \(\d+/\d+\)"
    r"|正在存储向量数据 \(\d+/\d+\)"
    r"|完成|完成（部分失败）|失败|已取消|等待执行|准备中)$")
FINISHED = ("completed", "failed", "partial_success", "cancelled")
INGESTER_READY_WITHIN_S = 240  # loading torch and the model on a busy 2-core machine


async def start_ingester(stack: Stack, **overrides: str) -> ServiceHandle:
    handle = await stack.cluster.start("ingester", **overrides)
    deadline = time.monotonic() + INGESTER_READY_WITHIN_S
    while "worker.ready" not in handle.log.read_text(errors="replace"):
        assert handle.running(), f"ingester exited:\n{handle.tail()}"
        assert time.monotonic() < deadline, f"ingester not ready:\n{handle.tail()}"
        await asyncio.sleep(0.25)
    return handle


async def create_kb(api: Api, name: str) -> str:
    response = await api.http.post("/api/v1/knowledge-bases", json={"name": name})
    assert response.status_code == 200, response.text
    kb_id: str = response.json()["data"]["id"]
    assert kb_id.startswith("kb-")
    return kb_id


async def upload(api: Api, kb_id: str, filename: str, content: bytes) -> str:
    response = await api.http.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                   files={"file": (filename, content)})
    assert response.status_code == 200, response.text
    document = response.json()["data"]
    assert document["status"] == "uploaded" and document["filename"] == filename
    doc_id: str = document["id"]
    return doc_id


async def sync(api: Api, kb_id: str, task_type: str = "full_sync",
               document_ids: list[str] | None = None) -> dict[str, Any]:
    response = await api.http.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                   json={"task_type": task_type,
                                         "document_ids": document_ids or []})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def wait_sync(api: Api, task_id: str, timeout_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = await api.http.get(f"/api/v1/sync-tasks/{task_id}")
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()["data"]
        if task["status"] in FINISHED:
            return task
        assert time.monotonic() < deadline, f"sync still {task['status']}: {task}"
        await asyncio.sleep(0.2)


async def wait_until_processed(api: Api, task_id: str, count: int,
                               timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        task = (await api.http.get(f"/api/v1/sync-tasks/{task_id}")).json()["data"]
        if task["processed_documents"] >= count:
            return
        assert task["status"] not in FINISHED and time.monotonic() < deadline, task
        await asyncio.sleep(0.05)


async def search(api: Api, kb_id: str, query: str, top_k: int = 3) -> list[dict[str, Any]]:
    response = await api.http.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                   json={"query": query, "top_k": top_k})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["data"]["results"]
    return results


def seed_polling_example(base_url: str, kb_id: str, token: str,
                         interval_s: float = 0.2) -> dict[str, Any]:
    """Seed 003's "Python - 创建任务并轮询进度" example, as written there, plus the auth header
    every Conveyor route needs and a shorter poll interval. Returns what it saw."""
    BASE_URL = f"{base_url}/api/v1"
    KB_ID = kb_id
    headers = {"Authorization": f"Bearer {token}"}
    seen_steps: list[str] = []
    second: requests.Response | None = None

    # 1. 创建同步任务
    response = requests.post(f"{BASE_URL}/knowledge-bases/{KB_ID}/sync",
                             json={"task_type": "full_sync", "document_ids": []},
                             headers=headers, timeout=30)
    task_id = response.json()["data"]["task_id"]
    # (not in the seed) a second sync while this one runs must be refused with 7002
    second = requests.post(f"{BASE_URL}/knowledge-bases/{KB_ID}/sync",
                           json={"task_type": "full_sync", "document_ids": []},
                           headers=headers, timeout=30)

    # 2. 轮询任务进度
    deadline = time.monotonic() + 300
    while True:
        response = requests.get(f"{BASE_URL}/sync-tasks/{task_id}", headers=headers,
                                timeout=30)
        task = response.json()["data"]
        status = task["status"]
        progress = task["progress"]
        current_step = task["current_step"]
        seen_steps.append(current_step)
        assert 0 <= progress <= 100
        if status in ["completed", "failed", "partial_success", "cancelled"]:
            break
        assert time.monotonic() < deadline, task
        time.sleep(interval_s)

    # 3. 如果有失败文档，重试
    retry = None
    if task["failed_documents"] > 0:
        response = requests.post(f"{BASE_URL}/sync-tasks/{task_id}/retry-failed",
                                 headers=headers, timeout=30)
        retry = response.json()
    return {"task_id": task_id, "task": task, "second": second, "steps": seen_steps,
            "retry": retry}
