"""Answers the gateway's SearchChunks calls: the keyword ranking of a hybrid search starts on
a connection of its own while the query is still being embedded (the model's time, not the
keyword scan's, then bounds a search); the vector ranking and the winners' rows follow on
another; the two rankings are weighed per query and fused (fusion.py); optionally reranked."""

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from proto.kb import ChunkHit, ChunksFound, SearchChunks
from services.ingester import repository as repo
from services.ingester.embeddings.base import EmbeddingProvider
from services.ingester.fusion import Coverage, Fused, Weights, fuse, side, weigh
from services.ingester.keywords import query_expression
from services.ingester.rerank import Reranker

log = get_logger(__name__)


class SearchService:
    """`coverage`: the scripts the embedding model reads; a hybrid search weighs the vector
    ranking by the share of the query written in them, and does not embed a query the model
    cannot read at all."""

    def __init__(self, db: AsyncEngine, provider: EmbeddingProvider, fusion: repo.Fusion, *,
                 coverage: Coverage, reranker: Reranker | None = None,
                 rerank_candidates: int = 20, keyword_budget: float = 0.05,
                 stats_refresh_s: float = 60.0) -> None:
        # Reads only, each statement on its own: no BEGIN and ROLLBACK round trips.
        self._db = db.execution_options(isolation_level="AUTOCOMMIT")
        self._provider = provider
        self._fusion = fusion
        self._coverage = coverage
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

    def readable(self, request: SearchChunks) -> float:
        """How much of the query the model reads: 1 unless hybrid (a single mode is asked
        for by name, to compare rankings)."""
        return self._coverage.readable(request.query) if request.mode == "hybrid" else 1.0

    async def _keywords(self, request: SearchChunks, keywords: str,
                        depth: int) -> list[repo.Candidate]:
        async with self._db.connect() as conn:
            return await repo.keyword_ranking(conn, tenant_id=request.tenant_id,
                                              kb_id=request.kb_id, keywords=keywords,
                                              depth=depth)

    async def search(self, request: SearchChunks, top_k: int) -> list[ChunkHit]:
        """The keyword ranking runs on a connection of its own while the query embeds (when
        both run), the vector ranking and the winners' rows on another."""
        fusion = self._fusion
        depth = max(fusion.depth, top_k)
        keywords = (None if request.mode == "vector" else query_expression(
            request.query, await self._frequencies(), self._keyword_budget))
        # A query the model cannot read is not embedded, unless only vectors are asked for or
        # no keyword is left to rank by.
        embed = request.mode != "keyword" and (self.readable(request) > 0 or keywords is None)
        by_keyword_soon = (asyncio.ensure_future(self._keywords(request, keywords, depth))
                           if keywords is not None and embed else None)
        try:
            vector = (await self._provider.embed([request.query]))[0] if embed else None
            async with self._db.connect() as conn:
                by_vector: list[repo.Candidate] = []
                if vector is not None:
                    await repo.use_hnsw_search(conn, max(2 * top_k, depth))
                    by_vector = await repo.vector_ranking(
                        conn, tenant_id=request.tenant_id, kb_id=request.kb_id,
                        vector=vector, depth=depth)
                if by_keyword_soon is not None:
                    by_keyword = await by_keyword_soon
                elif keywords is not None:
                    by_keyword = await repo.keyword_ranking(
                        conn, tenant_id=request.tenant_id, kb_id=request.kb_id,
                        keywords=keywords, depth=depth)
                else:
                    by_keyword = []
                vector_side, keyword_side = side(by_vector), side(by_keyword, pad_to=depth)
                weights = weigh(
                    Weights(vector=fusion.vector_weight, keyword=fusion.keyword_weight),
                    readable=self.readable(request), vector=vector_side, keyword=keyword_side)
                fused = fuse(weights, vector_side, keyword_side,
                             [c.chunk_id for c in by_vector], [c.chunk_id for c in by_keyword],
                             top_k)
                rows = await repo.chunk_rows(conn, tenant_id=request.tenant_id,
                                             kb_id=request.kb_id,
                                             chunk_ids=[entry.chunk_id for entry in fused],
                                             vector=vector)
        finally:
            if by_keyword_soon is not None and not by_keyword_soon.done():
                by_keyword_soon.cancel()
        return _hits(fused, rows, weights, by_keyword)

    async def __call__(self, request: SearchChunks) -> ChunksFound:
        started = time.perf_counter()
        # Only a hybrid search is reranked: the single-signal modes exist to compare rankings.
        reranker = self._reranker if request.mode == "hybrid" else None
        fetch = max(request.top_k, self._rerank_candidates) if reranker else request.top_k
        try:
            hits = await self.search(request, fetch)
            if reranker:
                hits = await reranker.rerank(request.query, hits, request.top_k)
        except Exception as exc:
            log.exception("kb.search_failed", kb_id=request.kb_id)
            return ChunksFound(error=f"{type(exc).__name__}: {exc}")
        return ChunksFound(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))


def _hits(fused: list[Fused], rows: dict[int, repo.ChunkRow], weights: Weights,
          by_keyword: Sequence[repo.Candidate]) -> list[ChunkHit]:
    """The fused chunks still stored (a document re-indexed meanwhile drops out), with each
    signal's rank, score and weight."""
    relevance = {c.chunk_id: c.score for c in by_keyword}
    hits = []
    for entry in fused:
        row = rows.get(entry.chunk_id)
        if row is None:
            continue
        matched = [name for name, rank in (("vector", entry.vector_rank),
                                           ("keyword", entry.keyword_rank)) if rank]
        hits.append(ChunkHit(
            chunk_id=row.chunk_id, document_id=row.document_id, filename=row.filename,
            seq=row.seq, context=row.context, content=row.content, score=entry.score,
            matched=matched,
            similarity=round(row.similarity, 6) if row.similarity is not None else None,
            vector_rank=entry.vector_rank, keyword_rank=entry.keyword_rank,
            keyword_score=(round(relevance[row.chunk_id], 6)
                           if entry.keyword_rank else None),
            weights={name: getattr(weights, name) for name in matched}))
    return hits

