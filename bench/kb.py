"""Knowledge-base sync and search (issue 5).

Ingest: a generated corpus of 200+ documents (five formats) uploaded through the gateway and
synced end to end (download -> extract -> chunk -> embed -> pgvector), in chunks per second,
next to the same model embedding the same chunks in this one process, in the same run.

Search: p50/p95 latency of `POST /search` through the gateway (query embedding in the ingester
+ HNSW search) over 100,000+ stored chunks, and of the SQL alone with precomputed vectors."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.kb_corpus import corpus, queries
from bench.stack import isolated_stack
from libs.db.engine import create_engine
from services.ingester import repository as repo
from services.ingester.embeddings.local import LocalProvider

DOCUMENTS = 200
STORED_CHUNKS = 100_000
QUERIES = 200
NOISE = 0.08  # per-dimension jitter that turns real embeddings into distinct neighbours


async def _ingest(client: httpx.AsyncClient) -> tuple[str, dict[str, Any], float]:
    kb_id = (await client.post("/api/v1/knowledge-bases", json={"name": "bench"})).json()[
        "data"]["id"]
    for filename, content in corpus(DOCUMENTS):
        response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/documents",
                                     files={"file": (filename, content)})
        response.raise_for_status()
    started = time.perf_counter()
    response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/sync",
                                 json={"task_type": "full_sync", "document_ids": []})
    response.raise_for_status()
    task_id = response.json()["data"]["task_id"]
    while True:
        task = (await client.get(f"/api/v1/sync-tasks/{task_id}")).json()["data"]
        if task["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    assert task["status"] == "completed", task
    return kb_id, task, elapsed


async def _chunks(db: AsyncEngine, kb_id: str) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT content FROM kb_chunks WHERE kb_id = :kb"),
                                  {"kb": kb_id.removeprefix("kb-")})
        return [row.content for row in rows]


async def _in_process_rate(chunks: list[str]) -> float:
    provider = await LocalProvider.load(batch_size=32)
    await provider.embed(chunks[:32])  # warm-up
    started = time.perf_counter()
    await provider.embed(chunks)
    rate = len(chunks) / (time.perf_counter() - started)
    await provider.close()
    return rate


async def _fill(db: AsyncEngine, kb_id: str) -> tuple[int, float]:
    """Grow the knowledge base to STORED_CHUNKS chunks: copies of its real chunks with jittered
    (re-normalised) embeddings, spread over synthetic documents. The HNSW index is dropped for
    the bulk insert and rebuilt once (the same definition as the migration's): building it in
    one pass is several times faster than 100,000 single inserts into it."""
    kb = kb_id.removeprefix("kb-")
    async with db.begin() as conn:
        tenant = await conn.scalar(text("SELECT tenant_id FROM knowledge_bases WHERE id = :kb"),
                                   {"kb": kb})
        have = await conn.scalar(text("SELECT count(*) FROM kb_chunks WHERE kb_id = :kb"),
                                 {"kb": kb})
        await conn.execute(text("DROP INDEX kb_chunks_embedding"))
        await conn.execute(text(
            """INSERT INTO kb_documents (id, kb_id, tenant_id, filename, format, content_type,
                size_bytes, content_hash, storage_key)
            SELECT gen_random_uuid(), :kb, :tenant, 'synthetic-' || g || '.txt', 'txt',
                'text/plain', 0, md5(g::text), 'none'
            FROM generate_series(1, :docs) g"""),
            {"kb": kb, "tenant": tenant, "docs": (STORED_CHUNKS - have) // 100 + 1})
        await conn.execute(text(
            """WITH base AS (SELECT row_number() OVER () AS n, content, embedding
                    FROM kb_chunks WHERE kb_id = :kb),
                docs AS (SELECT row_number() OVER () AS n, id FROM kb_documents
                    WHERE kb_id = :kb AND filename LIKE 'synthetic-%'),
                g AS (SELECT i FROM generate_series(0, :missing - 1) i)
            INSERT INTO kb_chunks (document_id, kb_id, tenant_id, seq, content, embedding)
            SELECT docs.id, :kb, :tenant, g.i % 100, base.content,
                l2_normalize(base.embedding + (SELECT array_agg((random() - 0.5) * :noise)
                    FROM generate_series(1, 384 + 0 * g.i))::vector)
            FROM g JOIN base ON base.n = g.i % :have + 1 JOIN docs ON docs.n = g.i / 100 + 1"""),
            {"kb": kb, "tenant": tenant, "missing": STORED_CHUNKS - have, "have": have,
             "noise": NOISE})
    started = time.perf_counter()
    async with db.begin() as conn:
        await conn.execute(text("SET maintenance_work_mem = '1GB'"))
        await conn.execute(text(
            "CREATE INDEX kb_chunks_embedding ON kb_chunks USING hnsw "
            "(embedding vector_cosine_ops)"))
        await conn.execute(text("ANALYZE kb_chunks"))
        total = await conn.scalar(text("SELECT count(*) FROM kb_chunks"))
    return int(total or 0), time.perf_counter() - started


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


async def _search_latency(client: httpx.AsyncClient, kb_id: str) -> tuple[float, float]:
    latencies = []
    for query in queries(QUERIES):
        started = time.perf_counter()
        response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                     json={"query": query, "top_k": 10})
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        assert len(response.json()["data"]["results"]) == 10
    return _percentiles(latencies)


async def _sql_latency(db: AsyncEngine, kb_id: str) -> tuple[float, float]:
    async with db.connect() as conn:
        vectors = [list(map(float, row.embedding.strip("[]").split(","))) for row in
                   await conn.execute(text("""SELECT embedding::text AS embedding FROM kb_chunks
                       ORDER BY random() LIMIT :n"""), {"n": QUERIES})]
    latencies = []
    for vector in vectors:
        started = time.perf_counter()
        async with db.begin() as conn:
            hits = await repo.search(conn, tenant_id=await _tenant(conn, kb_id),
                                     kb_id=kb_id.removeprefix("kb-"), vector=vector, top_k=10,
                                     ef_search=40)
        latencies.append((time.perf_counter() - started) * 1000)
        assert len(hits) == 10
    return _percentiles(latencies)


async def _tenant(conn: Any, kb_id: str) -> str:
    return str(await conn.scalar(text("SELECT tenant_id FROM knowledge_bases WHERE id = :kb"),
                                 {"kb": kb_id.removeprefix("kb-")}))


async def run() -> dict[str, float]:
    services = ["registry", "scheduler", "gateway", "ingester"]
    async with isolated_stack(services) as (cluster, url, token):
        db = create_engine(cluster.env["CONVEYOR_DATABASE_URL"], pool_size=2)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            kb_id, task, elapsed = await _ingest(client)
            chunks = await _chunks(db, kb_id)
            end_to_end = len(chunks) / elapsed
            in_process = await _in_process_rate(chunks)
            stored, index_s = await _fill(db, kb_id)
            api_p50, api_p95 = await _search_latency(client, kb_id)
            sql_p50, sql_p95 = await _sql_latency(db, kb_id)
        await db.dispose()
    figures = {"documents": task["total_documents"], "chunks": len(chunks),
               "ingest_s": elapsed, "end_to_end_chunks_per_s": end_to_end,
               "in_process_chunks_per_s": in_process, "ratio": end_to_end / in_process,
               "stored_chunks": stored, "hnsw_build_s": index_s,
               "search_p50_ms": api_p50, "search_p95_ms": api_p95,
               "sql_p50_ms": sql_p50, "sql_p95_ms": sql_p95}
    print(f"ingest: {task['total_documents']} documents, {len(chunks)} chunks in {elapsed:.1f}s "
          f"= {end_to_end:.1f} chunks/s end to end ({task['total_documents'] / elapsed:.1f} "
          "documents/s)")
    print(f"same model, same chunks, in one process: {in_process:.1f} chunks/s; "
          f"ratio {end_to_end / in_process:.2f}")
    print(f"search over {stored:,} chunks (HNSW built in {index_s:.0f}s), {QUERIES} queries, "
          f"top 10: gateway p50 {api_p50:.1f} ms, p95 {api_p95:.1f} ms; "
          f"SQL alone p50 {sql_p50:.1f} ms, p95 {sql_p95:.1f} ms")
    return figures


if __name__ == "__main__":
    uvloop.run(run())
