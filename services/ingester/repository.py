"""All of the ingester's SQL: it reads documents (the gateway's) and owns their index state and
chunks (embedding and keyword vector side by side in one row, so whatever removes a chunk
removes both). Functions take a connection and never commit."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from proto.kb import ChunkHit
from services.ingester.chunker import Chunk
from services.ingester.keywords import document_vector


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kb_id: str
    tenant_id: str
    filename: str
    format: str
    size_bytes: int
    content_hash: str
    storage_key: str


class Indexed(msgspec.Struct, frozen=True):
    """What the document's stored chunks were made from, and how many there are."""

    fingerprint: str
    chunk_count: int


async def load_document(conn: AsyncConnection,
                        document_id: str) -> tuple[Document, Indexed | None] | None:
    """The document with its index state (None if it was never indexed), in one statement;
    None if the document does not exist."""
    row = (await conn.execute(
        text("""SELECT d.id, d.kb_id, d.tenant_id, d.filename, d.format, d.size_bytes,
                d.content_hash, d.storage_key, i.fingerprint, i.chunk_count
            FROM kb_documents d LEFT JOIN kb_document_index i ON i.document_id = d.id
            WHERE d.id = CAST(:id AS uuid)"""),
        {"id": document_id},
    )).one_or_none()
    if row is None:
        return None
    document = Document(id=str(row.id), kb_id=str(row.kb_id), tenant_id=str(row.tenant_id),
                        filename=row.filename, format=row.format, size_bytes=row.size_bytes,
                        content_hash=row.content_hash, storage_key=row.storage_key)
    indexed = Indexed(row.fingerprint, row.chunk_count) if row.fingerprint is not None else None
    return document, indexed


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


class IndexedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A document's new chunk set with its vectors, ready to replace the old one."""

    document: Document
    chunks: list[Chunk]
    vectors: list[list[float]]
    fingerprint: str
    task_id: str


async def store_documents(conn: AsyncConnection, batch: list[IndexedDocument]) -> set[str]:
    """Swap each document's chunks (embeddings and keywords) for its new ones, the whole batch
    in one transaction: a search sees a document's old set or its new one, never a mix. Returns
    the ids stored; a document deleted meanwhile is left out."""
    latest = {indexed.document.id: indexed for indexed in batch}  # a retried item wins
    rows = await conn.execute(
        text("""SELECT id FROM kb_documents WHERE id = ANY(CAST(:ids AS uuid[]))
            ORDER BY id FOR SHARE"""),
        {"ids": sorted(latest)},
    )
    live = [latest[str(row.id)] for row in rows]
    if not live:
        return set()
    await conn.execute(text("DELETE FROM kb_chunks WHERE document_id = ANY(CAST(:ids AS uuid[]))"),
                       {"ids": [indexed.document.id for indexed in live]})
    columns: dict[str, list[Any]] = {name: [] for name in (
        "document_ids", "kb_ids", "tenant_ids", "seqs", "contexts", "contents", "embeddings",
        "keywords")}
    for indexed in live:
        doc = indexed.document
        for seq, (chunk, vector) in enumerate(zip(indexed.chunks, indexed.vectors, strict=True)):
            columns["document_ids"].append(doc.id)
            columns["kb_ids"].append(doc.kb_id)
            columns["tenant_ids"].append(doc.tenant_id)
            columns["seqs"].append(seq)
            columns["contexts"].append(chunk.context)
            columns["contents"].append(chunk.content)
            columns["embeddings"].append(vector_literal(vector))
            columns["keywords"].append(document_vector(chunk.text))
    await conn.execute(
        text("""INSERT INTO kb_chunks (document_id, kb_id, tenant_id, seq, context, content,
                embedding, keywords)
            SELECT u.document_id, u.kb_id, u.tenant_id, u.seq, u.context, u.content,
                CAST(u.embedding AS vector), CAST(u.keywords AS tsvector)
            FROM unnest(CAST(:document_ids AS uuid[]), CAST(:kb_ids AS uuid[]),
                CAST(:tenant_ids AS uuid[]), CAST(:seqs AS int[]), CAST(:contexts AS text[]),
                CAST(:contents AS text[]), CAST(:embeddings AS text[]),
                CAST(:keywords AS text[]))
                AS u(document_id, kb_id, tenant_id, seq, context, content, embedding, keywords)
            """),
        columns,
    )
    await conn.execute(
        text("""INSERT INTO kb_document_index (document_id, content_hash, fingerprint,
                chunk_count, task_id, indexed_at)
            SELECT u.id, u.hash, u.fingerprint, u.count, u.task_id, now()
            FROM unnest(CAST(:ids AS uuid[]), CAST(:hashes AS text[]),
                CAST(:fingerprints AS text[]), CAST(:counts AS int[]),
                CAST(:task_ids AS uuid[])) AS u(id, hash, fingerprint, count, task_id)
            ON CONFLICT (document_id) DO UPDATE SET content_hash = EXCLUDED.content_hash,
                fingerprint = EXCLUDED.fingerprint, chunk_count = EXCLUDED.chunk_count,
                task_id = EXCLUDED.task_id, indexed_at = now()"""),
        {"ids": [i.document.id for i in live], "hashes": [i.document.content_hash for i in live],
         "fingerprints": [i.fingerprint for i in live], "counts": [len(i.chunks) for i in live],
         "task_ids": [i.task_id for i in live]},
    )
    return {indexed.document.id for indexed in live}


async def keyword_frequencies(conn: AsyncConnection) -> dict[str, float]:
    """The most common keywords of all chunks with the share of chunks holding each, from
    PostgreSQL's own column statistics (ANALYZE keeps up to 100 x the statistics target of a
    tsvector column's lexemes); empty before the table was first analysed."""
    row = (await conn.execute(text(
        """SELECT most_common_elems::text::text[] AS lexemes,
            most_common_elem_freqs AS shares
        FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'kb_chunks'
            AND attname = 'keywords'"""))).one_or_none()
    if row is None or row.lexemes is None:
        return {}
    return dict(zip(row.lexemes, map(float, row.shares), strict=False))


class Fusion(msgspec.Struct, frozen=True, kw_only=True):
    """How a hybrid search ranks: each signal's `depth` best chunks, fused by reciprocal rank
    (weight / (rrf_k + rank), summed over the signals that ranked the chunk)."""

    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    rrf_k: int = 60
    depth: int = 50


# One statement: both rankings, fused, then the winners' rows. The HNSW index serves every
# knowledge base at once, so the kb filter applies during the index scan: pgvector 0.8's
# iterative scan keeps walking the graph until `depth` rows pass it (relaxed order: the rank is
# taken after an exact sort). The keyword side reads the GIN index on `keywords`.
_SEARCH = """
WITH nearest AS MATERIALIZED (
    SELECT c.id, c.embedding <=> CAST(:vector AS vector) AS distance
    FROM kb_chunks c
    WHERE c.kb_id = CAST(:kb_id AS uuid) AND c.tenant_id = CAST(:tenant_id AS uuid)
    ORDER BY distance LIMIT :vector_depth),
by_vector AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM nearest),
matching AS MATERIALIZED (
    SELECT c.id, ts_rank(c.keywords, q.query, 1) AS relevance
    FROM kb_chunks c, (SELECT CAST(:keywords AS tsquery) AS query) q
    WHERE c.kb_id = CAST(:kb_id AS uuid) AND c.tenant_id = CAST(:tenant_id AS uuid)
        AND c.keywords @@ q.query
    ORDER BY relevance DESC, c.id LIMIT :keyword_depth),
by_keyword AS (
    SELECT id, relevance, row_number() OVER (ORDER BY relevance DESC, id) AS rank
    FROM matching),
fused AS (
    SELECT coalesce(v.id, k.id) AS id, v.rank AS vector_rank, k.rank AS keyword_rank,
        k.relevance AS keyword_score,
        coalesce(CAST(:vector_weight AS float8) / (CAST(:rrf_k AS float8) + v.rank), 0)
            + coalesce(CAST(:keyword_weight AS float8) / (CAST(:rrf_k AS float8) + k.rank), 0)
            AS fused
    FROM by_vector v FULL JOIN by_keyword k ON k.id = v.id
    ORDER BY fused DESC, id LIMIT :top_k)
SELECT f.id, c.document_id, d.filename, c.seq, c.context, c.content, f.fused,
    f.vector_rank, f.keyword_rank, f.keyword_score,
    1 - (c.embedding <=> CAST(:vector AS vector)) AS similarity
FROM fused f JOIN kb_chunks c ON c.id = f.id JOIN kb_documents d ON d.id = c.document_id
ORDER BY f.fused DESC, f.id
"""


async def search(
    conn: AsyncConnection, *, tenant_id: str, kb_id: str, vector: list[float] | None,
    keywords: str | None, top_k: int, fusion: Fusion, ef_search: int,
) -> list[ChunkHit]:
    """The `top_k` best chunks of one knowledge base of one tenant. Without a vector or
    without keywords (a query of stop words only) the other ranking decides alone."""
    vector_weight = fusion.vector_weight if vector is not None else 0.0
    keyword_weight = fusion.keyword_weight if keywords is not None else 0.0
    await conn.execute(
        text("""SELECT set_config('hnsw.ef_search', :ef, true),
            set_config('hnsw.iterative_scan', 'relaxed_order', true)"""),
        {"ef": str(max(ef_search, fusion.depth))},
    )
    rows = await conn.execute(text(_SEARCH), {
        "vector": vector_literal(vector) if vector is not None else None,
        "keywords": keywords, "kb_id": kb_id, "tenant_id": tenant_id, "top_k": top_k,
        "vector_depth": max(fusion.depth, top_k) if vector_weight > 0 else 0,
        "keyword_depth": max(fusion.depth, top_k) if keyword_weight > 0 else 0,
        "vector_weight": vector_weight, "keyword_weight": keyword_weight,
        "rrf_k": fusion.rrf_k,
    })
    best = (vector_weight + keyword_weight) / (fusion.rrf_k + 1)
    return [_hit(row, best) for row in rows]


def _hit(row: Any, best: float) -> ChunkHit:
    matched = [name for name, rank in (("vector", row.vector_rank),
                                       ("keyword", row.keyword_rank)) if rank is not None]
    return ChunkHit(
        chunk_id=row.id, document_id=str(row.document_id), filename=row.filename,
        seq=row.seq, context=row.context, content=row.content,
        score=round(float(row.fused) / best, 6) if best else 0.0, matched=matched,
        similarity=round(float(row.similarity), 6) if row.similarity is not None else None,
        vector_rank=row.vector_rank, keyword_rank=row.keyword_rank,
        keyword_score=(round(float(row.keyword_score), 6)
                       if row.keyword_score is not None else None))
