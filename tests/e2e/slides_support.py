"""Shared pieces of the slides end-to-end tests: decks, the slides service as a module-scoped
process, and fetching a slide's image the way a client does (gateway redirect -> S3)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Api, Stack
from tests.harness import ServiceHandle

# Where tests leave the PNGs they produced, for a person to look at.
ARTIFACTS = Path(os.environ.get("CONVEYOR_TEST_ARTIFACTS", "/tmp/conveyor-test-artifacts")) / (
    "slides")


def deck(count: int, tag: str, **extra: Any) -> list[dict[str, Any]]:
    """`count` distinct slides (cover, sections, content, ending); `tag` makes the texts unique
    to a test so no other test's cache entries match them."""
    slides = []
    for i in range(count):
        kind = ("cover" if i == 0 else "ending" if i == count - 1 and count > 2
                else "section" if i % 4 == 1 else "content")
        slides.append({
            "id": f"{tag}-{i}", "page_num": i + 1, "type": kind,
            "title": f"{tag} 第{i + 1}页：季度进展",
            "content_text": f"要点一：批量生成接口上线 {tag}-{i}\n要点二：并发数可配置（1-10）",
            "visual_desc": "现代简约风格，科技感背景", **extra,
        })
    return slides


async def start_slides(stack: Stack, **env: str) -> ServiceHandle:
    handle = await stack.cluster.start("slides", CONVEYOR_SLIDES_RENDER_PROCESSES="2", **env)
    await stack.cluster.wait_for_log(handle, "worker.ready")
    return handle


async def stop_slides(stack: Stack, handle: ServiceHandle) -> None:
    code = await stack.cluster.kill(handle)
    assert code == 0, f"slides exited with {code}"


async def generate(api: Api, slides: list[dict[str, Any]], *, expect: int = 200,
                   **options: Any) -> dict[str, Any]:
    response = await api.http.post("/api/slide/batch/generate",
                                   json={"slides": slides, **options}, timeout=330)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(api: Api, batch_id: str) -> dict[str, Any]:
    response = await api.http.post("/api/slide/batch/status", json={"batch_id": batch_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_status(api: Api, batch_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        current = await status(api, batch_id)
        if current["status"] in ("completed", "failed"):
            return current
        assert time.monotonic() < deadline, f"batch still {current['status']}"
        await asyncio.sleep(0.2)


async def fetch_image(api: Api, image_url: str) -> bytes:
    """Follow the gateway's owner-checked redirect to the presigned S3 URL, without the token."""
    redirect = await api.http.get(image_url, follow_redirects=False)
    assert redirect.status_code == 302, redirect.text
    async with httpx.AsyncClient(trust_env=False) as s3:
        image = await s3.get(redirect.headers["location"])
    assert image.status_code == 200
    return image.content


async def session_lines(api: Api, session_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.http.get(f"/api/slide/sessions/{session_id}/logs", params=params)
    assert response.status_code == 200, response.text
    lines: list[dict[str, Any]] = response.json()["lines"]
    return lines


async def wait_for_line(api: Api, session_id: str, event: str,
                        timeout_s: float = 20) -> dict[str, Any]:
    """Batch start/end lines are written from the task events, a moment after the answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        for line in await session_lines(api, session_id):
            if line["event"] == event:
                return line
        assert time.monotonic() < deadline, f"no {event} line in session {session_id}"
        await asyncio.sleep(0.2)
