"""Embedding providers: the OpenAI-compatible HTTP one against a local fake server (batching
across documents: tests/integration/test_kb_index.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.ingester.embeddings.base import EmbeddingError
from services.ingester.embeddings.openai_http import HttpProvider
from tests.harness.fake_http import JsonHandler, serving


class FakeEmbeddings(JsonHandler):
    """POST /v1/embeddings like OpenAI: vector i = [len(text), i+1, 0, ...], answered in
    reverse order (clients must sort by `index`). Input "RATE LIMIT" gets a 429."""

    requests: list[dict[str, Any]] = []
    force_dims: int | None = None

    def do_POST(self) -> None:
        body = self.read_json()
        FakeEmbeddings.requests.append({"path": self.path, "auth": self.headers.get(
            "Authorization"), **body})
        if "RATE LIMIT" in body["input"]:
            self.send_json(429, {"error": {"message": "slow down"}})
            return
        dims = FakeEmbeddings.force_dims or body.get("dimensions", 4)
        data = [{"object": "embedding", "index": i,
                 "embedding": [float(len(text)), float(i + 1)] + [0.0] * (dims - 2)}
                for i, text in enumerate(body["input"])]
        self.send_json(200, {"object": "list", "data": list(reversed(data)),
                             "model": body["model"]})


@pytest.fixture()
def fake_api() -> Iterator[str]:
    FakeEmbeddings.requests = []
    with serving(FakeEmbeddings) as url:
        yield url


async def test_http_provider_batches_orders_and_normalises(fake_api: str) -> None:
    provider = HttpProvider(fake_api, "text-embedding-3-small", api_key="sk-test",
                            dimensions=8, batch_size=2)
    try:
        vectors = await provider.embed(["abc", "a", "abcd"])
    finally:
        await provider.close()
    assert len(FakeEmbeddings.requests) == 2  # batches of two
    first = FakeEmbeddings.requests[0]
    assert first["path"] == "/v1/embeddings" and first["auth"] == "Bearer sk-test"
    assert first["model"] == "text-embedding-3-small" and first["dimensions"] == 8
    assert [len(v) for v in vectors] == [8, 8, 8]
    assert vectors[0][:2] == pytest.approx([3 / 10 ** 0.5, 1 / 10 ** 0.5])  # [3, 1] normalised
    assert vectors[2][:2] == pytest.approx([1.0, 0.0], abs=0.3)  # "abcd" in batch 2, index 0
    assert provider.name == "http:text-embedding-3-small:8"


async def test_http_provider_reports_rate_limits(fake_api: str) -> None:
    provider = HttpProvider(fake_api, "m", dimensions=8)
    try:
        with pytest.raises(EmbeddingError, match="429"):
            await provider.embed(["RATE LIMIT"])
    finally:
        await provider.close()


async def test_http_provider_refuses_vectors_of_the_wrong_width(fake_api: str) -> None:
    FakeEmbeddings.force_dims = 4  # a server that ignores the `dimensions` it was asked for
    provider = HttpProvider(fake_api, "m", dimensions=8)
    try:
        with pytest.raises(EmbeddingError, match="8 维"):
            await provider.embed(["x"])
    finally:
        FakeEmbeddings.force_dims = None
        await provider.close()
