"""The optional rerank hook against a local fake of an OpenAI-compatible rerank endpoint:
it reorders the fused candidates, goes through the outbound URL policy, and never fails a
search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from libs.netguard import UrlPolicy
from proto.kb import ChunkHit
from services.ingester.rerank import Reranker
from tests.harness.fake_http import JsonHandler, serving


class FakeRerank(JsonHandler):
    """POST /v1/rerank: scores each document by how often the query's first word occurs in
    it, answered best first (clients must map by `index`). Query "broken" gets a 500."""

    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.read_json()
        FakeRerank.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                    **body})
        if body["query"] == "broken":
            self.send_json(500, {"error": "down"})
            return
        word = body["query"].split()[0]
        results = [{"index": i, "relevance_score": doc.count(word) / 10}
                   for i, doc in enumerate(body["documents"])]
        results.sort(key=lambda r: -r["relevance_score"])
        self.send_json(200, {"results": results[: body["top_n"]]})


@pytest.fixture()
def fake_rerank() -> Iterator[str]:
    FakeRerank.requests = []
    with serving(FakeRerank) as url:
        yield url


def _hits(*contents: str) -> list[ChunkHit]:
    return [ChunkHit(chunk_id=i, document_id="d", filename="f", seq=i, content=content,
                     score=1.0 - i / 10, matched=["vector"], context="H" if i == 0 else "")
            for i, content in enumerate(contents)]


LOOPBACK = UrlPolicy.from_setting("127.0.0.1/32")


async def test_the_reranker_reorders_candidates_and_says_so(fake_rerank: str) -> None:
    reranker = Reranker(fake_rerank, "bge-reranker", api_key="secret", policy=LOOPBACK,
                        timeout_s=5)
    hits = _hits("tea", "tea tea tea", "coffee", "tea tea")
    ranked = await reranker.rerank("tea please", hits, top_k=3)
    await reranker.close()
    assert [hit.content for hit in ranked] == ["tea tea tea", "tea tea", "tea"]
    assert [hit.rerank_score for hit in ranked] == [0.3, 0.2, 0.1]
    assert [hit.score for hit in ranked] == [0.3, 0.2, 0.1]
    assert all(hit.matched == ["vector", "rerank"] for hit in ranked)
    [request] = FakeRerank.requests
    assert request["path"] == "/v1/rerank" and request["auth"] == "Bearer secret"
    assert request["model"] == "bge-reranker" and request["top_n"] == 4
    assert request["documents"][0] == "H\ntea"  # a chunk goes with its headings


async def test_a_failing_reranker_leaves_the_fused_order(fake_rerank: str) -> None:
    reranker = Reranker(fake_rerank, "", api_key="", policy=LOOPBACK, timeout_s=5)
    hits = _hits("a", "b", "c")
    assert await reranker.rerank("broken", hits, top_k=2) == hits[:2]
    await reranker.close()


async def test_the_reranker_obeys_the_outbound_url_policy(fake_rerank: str) -> None:
    reranker = Reranker(fake_rerank, "", api_key="", policy=UrlPolicy(), timeout_s=5)
    hits = _hits("tea", "tea tea")
    assert await reranker.rerank("tea", hits, top_k=2) == hits  # loopback refused: unchanged
    await reranker.close()
    assert FakeRerank.requests == []
