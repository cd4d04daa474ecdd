"""Answers the gateway's SearchChunks calls: embed the query, ask pgvector."""

import time

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from proto.kb import ChunksFound, SearchChunks
from services.ingester import repository as repo
from services.ingester.embeddings.base import EmbeddingProvider

log = get_logger(__name__)


class SearchService:
    def __init__(self, db: AsyncEngine, provider: EmbeddingProvider) -> None:
        self._db = db
        self._provider = provider

    async def __call__(self, request: SearchChunks) -> ChunksFound:
        started = time.perf_counter()
        try:
            [vector] = await self._provider.embed([request.query])
            async with self._db.begin() as conn:
                hits = await repo.search(conn, tenant_id=request.tenant_id, kb_id=request.kb_id,
                                         vector=vector, top_k=request.top_k,
                                         ef_search=max(40, 2 * request.top_k))
        except Exception as exc:
            log.exception("kb.search_failed", kb_id=request.kb_id)
            return ChunksFound(error=f"{type(exc).__name__}: {exc}")
        return ChunksFound(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))
