"""Answers the gateway's SearchChunks calls: embed the query and tokenize it for keywords, run
both rankings and their fusion in one SQL statement, optionally rerank."""

import time
from collections.abc import Callable

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from proto.kb import ChunksFound, SearchChunks
from services.ingester import repository as repo
from services.ingester.embeddings.base import EmbeddingProvider
from services.ingester.keywords import query_expression
from services.ingester.rerank import Reranker

log = get_logger(__name__)


class SearchService:
    """`readable`: the share of a query the embedding model can read (tokens.known_share), for
    a local model; a hybrid search weighs the vector ranking by it, so an English model's
    guess at a Chinese question does not outvote the keywords. None: always full weight."""

    def __init__(self, db: AsyncEngine, provider: EmbeddingProvider, fusion: repo.Fusion, *,
                 readable: Callable[[str], float] | None = None,
                 reranker: Reranker | None = None, rerank_candidates: int = 20,
                 keyword_budget: float = 0.05, stats_refresh_s: float = 60.0) -> None:
        self._db = db
        self._provider = provider
        self._fusion = fusion
        self._readable = readable
        self._reranker = reranker
        self._rerank_candidates = rerank_candidates
        self._keyword_budget = keyword_budget
        self._stats_refresh_s = stats_refresh_s
        self._frequency: dict[str, float] = {}
        self._frequency_at = -stats_refresh_s

    async def _frequencies(self) -> dict[str, float]:
        """Keyword frequencies, re-read from PostgreSQL's statistics every few minutes."""
        if time.monotonic() - self._frequency_at >= self._stats_refresh_s:
            async with self._db.connect() as conn:
                self._frequency = await repo.keyword_frequencies(conn)
            self._frequency_at = time.monotonic()
        return self._frequency

    def _fusion_for(self, request: SearchChunks, keywords: str | None) -> repo.Fusion:
        if request.mode != "hybrid" or keywords is None or self._readable is None:
            return self._fusion
        weight = self._fusion.vector_weight * self._readable(request.query)
        return msgspec.structs.replace(self._fusion, vector_weight=weight)

    async def __call__(self, request: SearchChunks) -> ChunksFound:
        started = time.perf_counter()
        # Only a hybrid search is reranked: the single-signal modes exist to compare rankings.
        reranker = self._reranker if request.mode == "hybrid" else None
        fetch = max(request.top_k, self._rerank_candidates) if reranker else request.top_k
        try:
            vector = (None if request.mode == "keyword"
                      else (await self._provider.embed([request.query]))[0])
            keywords = (None if request.mode == "vector" else query_expression(
                request.query, await self._frequencies(), self._keyword_budget))
            async with self._db.begin() as conn:
                hits = await repo.search(conn, tenant_id=request.tenant_id, kb_id=request.kb_id,
                                         vector=vector, keywords=keywords, top_k=fetch,
                                         fusion=self._fusion_for(request, keywords),
                                         ef_search=2 * fetch)
            if reranker:
                hits = await reranker.rerank(request.query, hits, request.top_k)
        except Exception as exc:
            log.exception("kb.search_failed", kb_id=request.kb_id)
            return ChunksFound(error=f"{type(exc).__name__}: {exc}")
        return ChunksFound(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))
