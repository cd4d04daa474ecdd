"""Knowledge-base search: gateway -> ingester request/reply. The ingester owns the embedding
model (the gateway must not load torch) and the chunk tables, so it answers searches."""

import msgspec


class SearchChunks(msgspec.Struct, frozen=True, kw_only=True, tag="search_chunks"):
    tenant_id: str
    kb_id: str
    query: str
    top_k: int = 5


class ChunkHit(msgspec.Struct, frozen=True, kw_only=True):
    chunk_id: int
    document_id: str
    filename: str
    seq: int
    content: str
    score: float  # cosine similarity, 1 = same direction


class ChunksFound(msgspec.Struct, frozen=True, kw_only=True, tag="chunks_found"):
    hits: list[ChunkHit] = []
    took_ms: float = 0.0
    error: str | None = None  # set when the search could not run; hits is then empty
