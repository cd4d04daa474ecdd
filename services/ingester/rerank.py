"""Optional second stage of a hybrid search: an OpenAI-compatible rerank endpoint (`POST
{url}/rerank`, the shape Cohere, Jina, vLLM and most rerank servers accept) reorders the fused
candidates with a cross-encoder. Off unless CONVEYOR_INGESTER_RERANK_URL is set.

The URL is called through the outbound URL policy (libs/netguard.py): a private or loopback
address needs the operator's allow-list, like any server Conveyor calls. A reranker that
fails or answers nonsense never fails the search: the fused order stands, and the hits say
which signals ranked them."""

from typing import Any

import msgspec

from libs.logging import get_logger
from libs.netguard import GuardedClient, UrlPolicy, UrlRefused
from proto.kb import ChunkHit

log = get_logger(__name__)


class RerankError(Exception):
    pass


class Reranker:
    def __init__(self, base_url: str, model: str, *, api_key: str, policy: UrlPolicy,
                 timeout_s: float) -> None:
        self._url = base_url.rstrip("/") + "/rerank"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = GuardedClient(policy, timeout_s)

    async def scores(self, query: str, documents: list[str]) -> list[float]:
        """One relevance score per document, in the documents' order."""
        body: dict[str, Any] = {"query": query, "documents": documents,
                                "top_n": len(documents)}
        if self._model:
            body["model"] = self._model
        try:
            response = await self._client.request("POST", self._url, json=body,
                                                  headers=self._headers)
        except UrlRefused as exc:
            raise RerankError(f"URL refused: {exc}") from exc
        except Exception as exc:  # httpx's transport errors, timeouts
            raise RerankError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise RerankError(f"HTTP {response.status_code}")
        try:
            results = msgspec.json.decode(response.content)["results"]
            scores = {int(entry["index"]): float(entry["relevance_score"]) for entry in results}
        except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
            raise RerankError(f"unreadable answer: {exc}") from exc
        if set(scores) != set(range(len(documents))):
            raise RerankError(f"scored {len(scores)} of {len(documents)} documents")
        return [scores[index] for index in range(len(documents))]

    async def rerank(self, query: str, hits: list[ChunkHit], top_k: int) -> list[ChunkHit]:
        """The `top_k` best of `hits` by the reranker's score; `hits` cut to `top_k` in their
        fused order when the reranker fails."""
        if not hits:
            return hits
        try:
            scores = await self.scores(
                query, [f"{hit.context}\n{hit.content}" if hit.context else hit.content
                        for hit in hits])
        except RerankError as exc:
            log.warning("kb.rerank_failed", error=str(exc))
            return hits[:top_k]
        ranked = sorted(zip(scores, range(len(hits)), hits, strict=True),
                        key=lambda entry: (-entry[0], entry[1]))
        return [msgspec.structs.replace(hit, score=round(score, 6), rerank_score=round(score, 6),
                                        matched=[*hit.matched, "rerank"])
                for score, _, hit in ranked[:top_k]]

    async def close(self) -> None:
        await self._client.close()
