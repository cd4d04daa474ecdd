"""The external renderer against a fake OpenAI-compatible image API, served by two slides
instances at once: failures stay with their slides, 429s are retried, the provider never sees
more requests than the configured limit across both instances, and max_workers bounds a batch."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from PIL import Image

from tests.e2e.conftest import Api, Stack
from tests.e2e.fake_image_api import API_KEYS, FAIL_MARKER, FakeImageApi
from tests.e2e.slides_support import (
    deck,
    fetch_image,
    generate,
    session_lines,
    start_slides,
    status,
    stop_slides,
)

LIMIT = 3  # the provider's concurrency limit, configured as image_api_concurrency


@pytest.fixture(scope="module")
def api() -> Iterator[FakeImageApi]:
    fake = FakeImageApi(limit=LIMIT)
    fake.start()
    yield fake
    fake.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slides(stack: Stack, api: FakeImageApi) -> AsyncIterator[None]:
    # Each instance alone would run 3 slides at once: 6 together, twice the provider's limit.
    common = {"CONVEYOR_SLIDES_IMAGE_API_BASE_URL": api.base_url,
              "CONVEYOR_SLIDES_IMAGE_API_CONCURRENCY": str(LIMIT),
              "CONVEYOR_SLIDES_IMAGE_API_MAX_ATTEMPTS": "3",
              "CONVEYOR_SLIDES_IMAGE_API_BACKOFF_BASE_S": "0.05",
              "CONVEYOR_SLIDES_IMAGE_API_TIMEOUT_S": "60",
              "CONVEYOR_SLIDES_CONCURRENCY": "3", "CONVEYOR_SLIDES_PREFETCH": "3"}
    handles = [await start_slides(stack, CONVEYOR_INSTANCE_NAME=f"slides-{key}",
                                  CONVEYOR_SLIDES_IMAGE_API_KEY=key, **common)
               for key in API_KEYS]
    yield
    for handle in handles:
        await stop_slides(stack, handle)


def _marked(count: int, tag: str) -> list[dict[str, object]]:
    """Every fifth slide asks the fake provider to fail (its visual_desc is in the prompt)."""
    slides = deck(count, tag)
    for slide in slides[4::5]:
        slide["visual_desc"] = f"{slide['visual_desc']} {FAIL_MARKER}"
    return slides


async def test_failing_slides_fail_alone_and_the_limit_holds_across_instances(
    slides: None, api: FakeImageApi, alice: Api
) -> None:
    batch = _marked(20, "ext")
    body = await generate(alice, batch, renderer="image_api", max_workers=10,
                          style_prompt="扁平插画风格")
    expected_failures = {s["id"] for s in batch[4::5]}
    failed = {r["slide_id"] for r in body["results"] if r["status"] == "failed"}
    assert (body["status"], body["successful"], body["failed"]) == ("completed", 16, 4)
    assert failed == expected_failures
    for result in body["results"]:
        if result["slide_id"] in failed:
            assert "500" in result["error_message"] and result["image_url"] is None
        else:
            assert result["error_message"] is None and result["renderer"] == "image_api"
            assert (result["width"], result["height"]) == (1920, 1080)
    assert api.max_in_flight <= LIMIT and api.over_limit == 0, (api.max_in_flight, api.over_limit)
    assert api.rate_limited > 0, "the fake provider rate-limited nothing"
    assert api.keys_seen == set(API_KEYS), "both instances took slides"
    png = await fetch_image(alice, body["results"][0]["image_url"])
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1920, 1080)

    lines = await session_lines(alice, body["session_id"])
    calls = [line["details"] for line in lines if line["event"] == "image_api_call"]
    assert {call["status"] for call in calls} == {200, 429, 500}
    assert all(call["duration_s"] >= api.delay_s * 0.9 for call in calls)
    retries = [line for line in lines if line["event"] == "slide_retry"]
    assert {line["details"]["status"] for line in retries} >= {429, 500}
    failures = [line for line in lines if line["event"] == "slide_failed"]
    assert {line["details"]["slide_id"] for line in failures} == expected_failures


async def test_retry_failed_renders_only_the_failed_slides(
    slides: None, api: FakeImageApi, alice: Api
) -> None:
    batch = _marked(10, "retry")
    first = await generate(alice, batch, renderer="image_api", max_workers=5)
    assert (first["successful"], first["failed"]) == (8, 2)
    api.failing = False  # the provider recovered
    try:
        response = await alice.http.post("/api/slide/batch/retry-failed",
                                         json={"batch_id": first["batch_id"]}, timeout=120)
    finally:
        api.failing = True
    assert response.status_code == 200, response.text
    retry = response.json()
    assert retry["parent_batch_id"] == first["batch_id"]
    assert retry["session_id"] == first["session_id"]
    assert (retry["status"], retry["total_slides"], retry["successful"]) == ("completed", 2, 2)
    assert {r["slide_id"] for r in retry["results"]} == {"retry-4", "retry-9"}
    assert (await status(alice, retry["batch_id"]))["parent_batch_id"] == first["batch_id"]
    again = await alice.http.post("/api/slide/batch/retry-failed",
                                  json={"batch_id": retry["batch_id"]})
    assert again.status_code == 400 and again.json()["error"]["code"] == "NO_FAILED_SLIDES"


async def test_max_workers_bounds_the_batch(slides: None, api: FakeImageApi, alice: Api) -> None:
    api.max_in_flight = 0
    body = await generate(alice, deck(6, "one-at-a-time"), renderer="image_api", max_workers=1)
    assert body["successful"] == 6
    assert api.max_in_flight == 1


async def test_identical_batch_is_served_from_the_cache(
    slides: None, api: FakeImageApi, alice: Api
) -> None:
    batch = deck(9, "ext-cache")
    started = time.monotonic()
    first = await generate(alice, batch, renderer="image_api", max_workers=3)
    first_s = time.monotonic() - started
    requests = api.requests
    started = time.monotonic()
    again = await generate(alice, batch, renderer="image_api", max_workers=3)
    again_s = time.monotonic() - started
    assert first["successful"] == again["successful"] == 9
    assert all(r["cached"] for r in again["results"])
    assert api.requests == requests, "a cached slide reached the provider"
    assert again_s < first_s / 2, (first_s, again_s)
    pngs = await asyncio.gather(fetch_image(alice, first["results"][0]["image_url"]),
                                fetch_image(alice, again["results"][0]["image_url"]))
    assert pngs[0] == pngs[1]
