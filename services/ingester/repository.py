"""All of the ingester's SQL: it reads documents (the gateway's) and owns their index state and
chunks (embedding and keyword vector side by side in one row, so whatever removes a chunk
removes both). Functions take a connection and never commit."""

from typing import Any, NamedTuple

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
    """How a hybrid search ranks: each signal's `depth` best chunks, fused by score with
    these base weights scaled per query (services/ingester/fusion.py)."""

    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 50


class Candidate(NamedTuple):
    """A chunk one ranking found, with its score there (higher is better)."""

    chunk_id: int
    score: float


async def use_hnsw_search(conn: AsyncConnection, ef_search: int) -> None:
    """The HNSW index spans every knowledge base, so the kb filter applies during the index
    scan: pgvector 0.8's iterative scan keeps walking the graph until enough rows pass it
    (relaxed order: vector_ranking sorts exactly). Set for the connection's session once (and
    again only when `ef_search` changes), so a search needs no extra round trip for it. The
    connection must be in autocommit mode: a transaction rolled back would undo the setting
    while the connection still remembered it."""
    if conn.info.get("hnsw.ef_search") == ef_search:
        return
    if conn.sync_connection is None or conn.sync_connection.get_execution_options().get(
            "isolation_level") != "AUTOCOMMIT":
        raise ValueError("use_hnsw_search needs a connection in autocommit mode")
    await conn.execute(text(
        "SELECT set_config('hnsw.ef_search', :ef, false), "
        "set_config('hnsw.iterative_scan', 'relaxed_order', false)"), {"ef": str(ef_search)})
    conn.info["hnsw.ef_search"] = ef_search


async def vector_ranking(conn: AsyncConnection, *, tenant_id: str, kb_id: str,
                         vector: list[float], depth: int) -> list[Candidate]:
    """The knowledge base's `depth` chunks nearest to `vector`, nearest first, scored by
    cosine similarity (use_hnsw_search first)."""
    rows = await conn.execute(text(
        """SELECT c.id, 1 - (c.embedding <=> CAST(:vector AS vector)) AS similarity
        FROM kb_chunks c
        WHERE c.kb_id = CAST(:kb_id AS uuid) AND c.tenant_id = CAST(:tenant_id AS uuid)
        ORDER BY c.embedding <=> CAST(:vector AS vector) LIMIT :depth"""),
        {"vector": vector_literal(vector), "kb_id": kb_id, "tenant_id": tenant_id,
         "depth": depth})
    found = [Candidate(row.id, float(row.similarity)) for row in rows]
    found.sort(key=lambda candidate: (-candidate.score, candidate.chunk_id))
    return found


async def keyword_ranking(conn: AsyncConnection, *, tenant_id: str, kb_id: str,
                          keywords: str, depth: int) -> list[Candidate]:
    """The knowledge base's `depth` chunks holding any of the `keywords` (a tsquery literal)
    that rank highest by `ts_rank` (length-normalised), over the GIN index."""
    rows = await conn.execute(text(
        """SELECT c.id, ts_rank(c.keywords, q.query, 1) AS relevance
        FROM kb_chunks c, (SELECT CAST(:keywords AS tsquery) AS query) q
        WHERE c.kb_id = CAST(:kb_id AS uuid) AND c.tenant_id = CAST(:tenant_id AS uuid)
            AND c.keywords @@ q.query
        ORDER BY relevance DESC, c.id LIMIT :depth"""),
        {"keywords": keywords, "kb_id": kb_id, "tenant_id": tenant_id, "depth": depth})
    return [Candidate(row.id, float(row.relevance)) for row in rows]


class ChunkRow(msgspec.Struct, frozen=True, kw_only=True):
    chunk_id: int
    document_id: str
    filename: str
    seq: int
    context: str
    content: str
    similarity: float | None  # cosine similarity to the query's vector, when there is one


async def chunk_rows(conn: AsyncConnection, *, tenant_id: str, kb_id: str,
                     chunk_ids: list[int], vector: list[float] | None) -> dict[int, ChunkRow]:
    """The listed chunks of the knowledge base with their documents' filenames, by id."""
    if not chunk_ids:
        return {}
    rows = await conn.execute(text(
        """SELECT c.id, c.document_id, d.filename, c.seq, c.context, c.content,
            1 - (c.embedding <=> CAST(:vector AS vector)) AS similarity
        FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
        WHERE c.id = ANY(CAST(:ids AS bigint[])) AND c.kb_id = CAST(:kb_id AS uuid)
            AND c.tenant_id = CAST(:tenant_id AS uuid)"""),
        {"ids": chunk_ids, "kb_id": kb_id, "tenant_id": tenant_id,
         "vector": vector_literal(vector) if vector is not None else None})
    return {row.id: ChunkRow(chunk_id=row.id, document_id=str(row.document_id),
                             filename=row.filename, seq=row.seq, context=row.context,
                             content=row.content,
                             similarity=(float(row.similarity)
                                         if row.similarity is not None else None))
            for row in rows}
