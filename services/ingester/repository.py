"""All of the ingester's SQL: it reads documents (the gateway's) and owns their index state and
chunks. Functions take a connection and never commit."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from proto.kb import ChunkHit


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kb_id: str
    tenant_id: str
    filename: str
    format: str
    size_bytes: int
    content_hash: str
    storage_key: str


async def load_document(conn: AsyncConnection, document_id: str) -> Document | None:
    row = (await conn.execute(
        text("""SELECT id, kb_id, tenant_id, filename, format, size_bytes, content_hash,
            storage_key FROM kb_documents WHERE id = CAST(:id AS uuid)"""),
        {"id": document_id},
    )).one_or_none()
    if row is None:
        return None
    values = {key: str(value) if key.endswith("id") else value
              for key, value in row._mapping.items()}
    return msgspec.convert(values, Document)


async def indexed_fingerprint(conn: AsyncConnection, document_id: str) -> tuple[str, int] | None:
    row = (await conn.execute(
        text("""SELECT fingerprint, chunk_count FROM kb_document_index
            WHERE document_id = CAST(:id AS uuid)"""),
        {"id": document_id},
    )).one_or_none()
    return (row.fingerprint, row.chunk_count) if row else None


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


async def replace_chunks(
    conn: AsyncConnection, document: Document, chunks: list[str], vectors: list[list[float]],
    *, fingerprint: str, task_id: str,
) -> bool:
    """Swap the document's chunks for these in one transaction (searches see the old set or
    the new one, never a mix). False if the document was deleted meanwhile."""
    locked = await conn.scalar(
        text("SELECT 1 FROM kb_documents WHERE id = CAST(:id AS uuid) FOR SHARE"),
        {"id": document.id},
    )
    if locked is None:
        return False
    await conn.execute(text("DELETE FROM kb_chunks WHERE document_id = CAST(:id AS uuid)"),
                       {"id": document.id})
    await conn.execute(
        text("""INSERT INTO kb_chunks (document_id, kb_id, tenant_id, seq, content, embedding)
            SELECT CAST(:document_id AS uuid), CAST(:kb_id AS uuid), CAST(:tenant_id AS uuid),
                u.seq, u.content, CAST(u.embedding AS vector)
            FROM unnest(CAST(:seqs AS int[]), CAST(:contents AS text[]),
                        CAST(:embeddings AS text[])) AS u(seq, content, embedding)"""),
        {"document_id": document.id, "kb_id": document.kb_id, "tenant_id": document.tenant_id,
         "seqs": list(range(len(chunks))), "contents": chunks,
         "embeddings": [vector_literal(v) for v in vectors]},
    )
    await conn.execute(
        text("""INSERT INTO kb_document_index (document_id, content_hash, fingerprint,
                chunk_count, task_id, indexed_at)
            VALUES (CAST(:id AS uuid), :hash, :fingerprint, :count, CAST(:task_id AS uuid), now())
            ON CONFLICT (document_id) DO UPDATE SET content_hash = EXCLUDED.content_hash,
                fingerprint = EXCLUDED.fingerprint, chunk_count = EXCLUDED.chunk_count,
                task_id = EXCLUDED.task_id, indexed_at = now()"""),
        {"id": document.id, "hash": document.content_hash, "fingerprint": fingerprint,
         "count": len(chunks), "task_id": task_id},
    )
    return True


async def search(
    conn: AsyncConnection, *, tenant_id: str, kb_id: str, vector: list[float], top_k: int,
    ef_search: int,
) -> list[ChunkHit]:
    """Nearest chunks of one knowledge base of one tenant, by cosine distance.

    The HNSW index serves every knowledge base at once, so the kb filter is applied during the
    index scan: pgvector 0.8's iterative scan keeps walking the graph until `top_k` rows pass
    it (without it, a small knowledge base in a large table could come back short). relaxed
    order may return rows slightly out of order; the outer query sorts them exactly."""
    await conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
    await conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    rows = await conn.execute(
        text("""WITH nearest AS MATERIALIZED (
                SELECT c.id, c.document_id, c.seq, c.content,
                    c.embedding <=> CAST(:vector AS vector) AS distance
                FROM kb_chunks c
                WHERE c.kb_id = CAST(:kb_id AS uuid) AND c.tenant_id = CAST(:tenant_id AS uuid)
                ORDER BY distance LIMIT :top_k)
            SELECT n.id, n.document_id, d.filename, n.seq, n.content, n.distance
            FROM nearest n JOIN kb_documents d ON d.id = n.document_id
            ORDER BY n.distance"""),
        {"vector": vector_literal(vector), "kb_id": kb_id, "tenant_id": tenant_id,
         "top_k": top_k},
    )
    return [_hit(row) for row in rows]


def _hit(row: Any) -> ChunkHit:
    return ChunkHit(chunk_id=row.id, document_id=str(row.document_id), filename=row.filename,
                    seq=row.seq, content=row.content, score=round(1.0 - float(row.distance), 6))
