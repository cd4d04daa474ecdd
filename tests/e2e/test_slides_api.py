"""Seed 001's slide API with the local renderer: generate and wait, status, active count,
images behind the owner check, session logs, validation, and the result cache."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator

import pytest_asyncio
from PIL import Image

from tests.e2e.conftest import Api, Stack
from tests.e2e.slides_support import (
    deck,
    fetch_image,
    generate,
    session_lines,
    start_slides,
    status,
    stop_slides,
    wait_for_line,
    wait_status,
)
from tests.harness import ServiceHandle


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slides(stack: Stack) -> AsyncIterator[ServiceHandle]:
    handle = await start_slides(stack)
    yield handle
    await stop_slides(stack, handle)


async def test_generate_waits_and_returns_every_slide(slides: ServiceHandle, alice: Api) -> None:
    started = time.monotonic()
    body = await generate(alice, deck(6, "gen"), style_prompt="现代科技风格，蓝色调",
                          max_workers=3, aspect_ratio="16:9")
    elapsed = time.monotonic() - started
    assert (body["status"], body["total_slides"], body["successful"], body["failed"]) == (
        "completed", 6, 6, 0)
    assert 0 < body["total_time"] <= elapsed + 0.5
    assert [r["slide_id"] for r in body["results"]] == [f"gen-{i}" for i in range(6)]
    for result in body["results"]:
        assert result["status"] == "done" and result["error_message"] is None
        assert result["cached"] is False and result["generation_time"] > 0
        assert "现代科技风格" in result["final_prompt"] and result["title"] in result[
            "final_prompt"]
        assert (result["width"], result["height"]) == (1920, 1080)
    png = await fetch_image(alice, body["results"][0]["image_url"])
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (1920, 1080))

    final = await status(alice, body["batch_id"])
    assert (final["status"], final["progress"], final["completed_slides"]) == ("completed", 1.0, 6)
    assert final["estimated_remaining_time"] is None
    assert final["results"] == body["results"]


async def test_async_mode_returns_at_once_and_counts_as_active(
    slides: ServiceHandle, alice: Api
) -> None:
    body = await generate(alice, deck(8, "async"), max_workers=1, wait=False, expect=202)
    assert body["status"] in ("pending", "running") and body["batch_id"]
    assert body["status_url"] == "/api/slide/batch/status"
    active = (await alice.http.get("/api/slide/batch/active-count")).json()
    assert active["active_batches"] >= 1
    running = await status(alice, body["batch_id"])
    assert 0.0 <= running["progress"] < 1.0
    final = await wait_status(alice, body["batch_id"])
    assert (final["status"], final["successful"]) == ("completed", 8)


async def test_images_and_logs_are_owner_checked(slides: ServiceHandle, alice: Api,
                                                 mallory: Api) -> None:
    body = await generate(alice, deck(2, "owner"))
    url = body["results"][0]["image_url"]
    assert (await mallory.http.get(url)).status_code == 404
    denied = await mallory.http.post("/api/slide/batch/status",
                                     json={"batch_id": body["batch_id"]})
    assert denied.status_code == 404 and denied.json()["error"]["code"] == "BATCH_NOT_FOUND"
    logs = await mallory.http.get(f"/api/slide/sessions/{body['session_id']}/logs")
    assert logs.status_code == 404
    missing = await alice.http.get(f"/api/slide/batch/{body['batch_id']}/slides/99/image")
    assert missing.status_code == 404


async def test_session_log_has_a_line_per_slide_and_the_batch_summary(
    slides: ServiceHandle, alice: Api
) -> None:
    body = await generate(alice, deck(3, "logs"), session_id="session-logs-1")
    assert body["session_id"] == "session-logs-1"
    complete = await wait_for_line(alice, "session-logs-1", "batch_generate_complete")
    assert complete["summary"]["total_slides"] == 3 and complete["summary"]["successful"] == 3
    lines = await session_lines(alice, "session-logs-1")
    events = [line["event"] for line in lines]
    assert events.count("slide_started") == 3 and events.count("slide_completed") == 3
    assert events[0] == "batch_generate_start"
    completed = [line for line in lines if line["event"] == "slide_completed"]
    assert {line["details"]["slide_id"] for line in completed} == {f"logs-{i}" for i in range(3)}
    assert all(line["details"]["generation_time"] > 0 for line in completed)
    assert all(line["batch_id"] == body["batch_id"] for line in lines)
    # The seed's own recipes read the service's JSON log: `grep batch_generate_complete |
    # jq .summary` and `grep slide_completed | jq .details.generation_time`.
    service_log = [json.loads(line) for line in slides.log.read_text().splitlines()
                   if line.startswith("{") and "session-logs-1" in line]
    summary = next(line["summary"] for line in service_log
                   if line["event"] == "batch_generate_complete")
    assert (summary["total_slides"], summary["successful"], summary["failed"]) == (3, 3, 0)
    assert all(line["details"]["generation_time"] > 0 for line in service_log
               if line["event"] == "slide_completed")
    jsonl = await alice.http.get("/api/slide/sessions/session-logs-1/logs",
                                 params={"format": "jsonl"})
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert len(jsonl.text.strip().splitlines()) == len(lines)


async def test_identical_batch_is_served_from_the_cache_and_faster(
    slides: ServiceHandle, alice: Api
) -> None:
    slides_ = deck(12, "cache")
    first = await generate(alice, slides_, style_prompt="商务 红色", max_workers=4)
    again = await generate(alice, slides_, style_prompt="商务 红色", max_workers=4)
    assert first["successful"] == again["successful"] == 12
    assert not any(r["cached"] for r in first["results"])
    assert all(r["cached"] for r in again["results"])
    first_work = sum(r["generation_time"] for r in first["results"])
    cached_work = sum(r["generation_time"] for r in again["results"])
    assert cached_work < first_work / 2, (first_work, cached_work)
    assert again["total_time"] < first["total_time"], (first["total_time"], again["total_time"])
    pngs = await asyncio.gather(fetch_image(alice, first["results"][3]["image_url"]),
                                fetch_image(alice, again["results"][3]["image_url"]))
    assert pngs[0] == pngs[1]


async def test_invalid_requests_name_the_field(slides: ServiceHandle, alice: Api) -> None:
    cases = [
        ({"slides": deck(1, "v"), "max_workers": 11}, "max_workers"),
        ({"slides": deck(1, "v"), "aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"slides": []}, "slides"),
        ({"slides": [{**deck(1, "v")[0], "type": "chart"}]}, "slides[0].type"),
        ({"slides": [{**deck(1, "v")[0], "title": "长" * 201}]}, "slides[0].title"),
        ({"slides": deck(1, "v") + deck(1, "v")}, "slides[1].id"),
        ({"slides": [{"id": "x", "type": "content"}]}, "slides[0].title"),
        ({"slides": deck(1, "v"), "maxWorkers": 3}, "maxWorkers"),
        ({"slides": deck(201, "v")}, "slides"),
    ]
    for body, field in cases:
        response = await alice.http.post("/api/slide/batch/generate", json=body)
        assert response.status_code == 400, (field, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert field in fields, (field, fields)
    retry = await alice.http.post("/api/slide/batch/retry-failed", json={"batch_id": "nope"})
    assert retry.status_code == 404
    # This module's slides service has no image API configured: refused up front.
    external = await alice.http.post("/api/slide/batch/generate",
                                     json={"slides": deck(1, "v"), "renderer": "image_api"})
    assert external.status_code == 400, external.text
    assert external.json()["error"]["code"] == "RENDERER_UNAVAILABLE"
