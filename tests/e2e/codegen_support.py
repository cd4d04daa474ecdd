"""Shared pieces of the code-generation end-to-end tests: the codegen service as a process, and
seed 002's frontend flow (create, poll every 2 s, read `downloadUrl`) as its documentation
writes it."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from typing import Any

import httpx
import tree_sitter
import tree_sitter_kotlin

from tests.e2e.conftest import Api, Stack
from tests.harness import ServiceHandle

EXAMPLE = "创建一个校园二手交易平台，支持商品发布、搜索、聊天和交易评价"
TERMINAL = ("completed", "failed", "cancelled")
POLL_S = 2.0  # seed 002: poll every 2 seconds


async def start_codegen(stack: Stack, **env: str) -> ServiceHandle:
    handle = await stack.cluster.start("codegen", **env)
    await stack.cluster.wait_for_log(handle, "worker.ready")
    return handle


async def stop_codegen(stack: Stack, handle: ServiceHandle) -> None:
    code = await stack.cluster.kill(handle)
    assert code == 0, f"codegen exited with {code}"


async def create(api: Api, requirement: str = EXAMPLE, *, expect: int = 200,
                 headers: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    response = await api.http.post("/api/v1/generate/async",
                                   json={"userRequirement": requirement, **options},
                                   headers=headers or {})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(api: Api, task_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/api/v1/generate/status/{task_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def poll(api: Api, task_id: str, *, interval_s: float = POLL_S,
               timeout_s: float = 120) -> tuple[dict[str, Any], list[str]]:
    """Seed 002's pollTaskStatus: the statuses seen on the way, and the last answer."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while True:
        data = await status(api, task_id)
        if not seen or seen[-1] != data["status"]:
            seen.append(data["status"])
        if data["status"] in TERMINAL:
            return data, seen
        assert time.monotonic() < deadline, f"still {data['status']} after {timeout_s} s"
        await asyncio.sleep(interval_s)


async def wait_status(api: Api, task_id: str, wanted: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while (data := await status(api, task_id))["status"] != wanted:
        assert data["status"] not in TERMINAL, data
        assert time.monotonic() < deadline, f"{data['status']}, not {wanted}"
        await asyncio.sleep(0.05)


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text[:300]
    return response


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def unparsable_kotlin(files: dict[str, str]) -> list[str]:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language()))
    return [name for name, text in files.items() if name.endswith((".kt", ".kts"))
            and parser.parse(text.encode()).root_node.has_error]
