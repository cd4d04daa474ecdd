"""Knowledge-base search: gateway -> ingester request/reply. The ingester owns the embedding
model (the gateway must not load torch) and the chunk tables, so it answers searches."""

from typing import Literal

import msgspec

# Which rankings a search fuses: both (the default), or one alone (to compare them).
SearchMode = Literal["hybrid", "vector", "keyword"]


class SearchChunks(msgspec.Struct, frozen=True, kw_only=True, tag="search_chunks"):
    tenant_id: str
    kb_id: str
    query: str
    top_k: int = 5
    mode: SearchMode = "hybrid"


class ChunkHit(msgspec.Struct, frozen=True, kw_only=True):
    chunk_id: int
    document_id: str
    filename: str
    seq: int
    content: str
    # Relevance in (0, 1], best first: the fused rank (reciprocal rank fusion, 1 = first in
    # every ranking), or the reranker's score when one is configured.
    score: float
    context: str = ""  # the headings above the chunk
    matched: list[str] = []  # the signals that ranked it: "vector", "keyword", "rerank"
    similarity: float | None = None  # cosine similarity to the query's embedding
    vector_rank: int | None = None  # 1-based place among the nearest chunks
    keyword_score: float | None = None  # ts_rank of the query's terms in the chunk
    keyword_rank: int | None = None
    rerank_score: float | None = None
    # The weight each matched fused signal had for this query ("vector", "keyword"): the
    # configured weight scaled by how much of the query the model reads and by how far the
    # signal's best candidate stood above the rest (services/ingester/fusion.py).
    weights: dict[str, float] = {}


class ChunksFound(msgspec.Struct, frozen=True, kw_only=True, tag="chunks_found"):
    hits: list[ChunkHit] = []
    took_ms: float = 0.0
    error: str | None = None  # set when the search could not run; hits is then empty


class KbSyncParams(msgspec.Struct, frozen=True, kw_only=True):
    """A knowledge-base sync task's params."""

    kb_id: str
    task_type: str
    total_documents: int = 0  # workers show "(i/n)" in the current step


class KbSyncPayload(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    filename: str = ""


class KbSyncResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    chunks_created: int
    skipped: bool
    chunk_count: int | None = None  # an unchanged document: the chunks it already has
