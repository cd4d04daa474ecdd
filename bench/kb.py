"""Knowledge-base sync and search (issues 5 and 15).

Ingest: a generated corpus of 200+ documents (five formats) uploaded through the gateway and
synced end to end (download -> extract -> chunk -> embed -> pgvector + keywords), in chunks per
second, next to the same model embedding the same chunks in this one process, in the same run:
on the runtime the ingester embeds documents on (ONNX Runtime by default: the ratio), and as
sentence-transformers runs it on torch (for reference).

Retrieval quality: bench/kb_eval.py (real bilingual documents, known answers) in the same stack.

Search: p50/p95 latency of `POST /search` through the gateway (query embedding in the ingester
+ the hybrid statement: HNSW scan, GIN keyword scan, fusion) over 100,000+ stored chunks, hybrid
and vector-only, and of the SQL alone with precomputed vectors."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import kb_eval
from bench.kb_corpus import corpus, queries, synced_knowledge_base
from bench.stack import isolated_stack
from libs.db.engine import create_engine
from proto.kb import SearchChunks
from services.ingester import repository as repo
from services.ingester.app import coverage
from services.ingester.chunker import chunk_document
from services.ingester.embeddings.base import EmbeddingProvider
from services.ingester.embeddings.local import LocalProvider
from services.ingester.embeddings.onnx_local import OnnxProvider
from services.ingester.extract import Limits, extract_text
from services.ingester.search import SearchService
from services.ingester.settings import IngesterSettings
from services.ingester.tokens import default_model_path, token_counter

DOCUMENTS = 200
WARM_UP = 20  # documents of the warm-up sync (others than the measured ones)
STORED_CHUNKS = 100_000
QUERIES = 200
NOISE = 0.08  # per-dimension jitter that turns real embeddings into distinct neighbours


async def _chunks(db: AsyncEngine, kb_id: str) -> list[str]:
    """The texts the ingester embedded: each chunk under its headings."""
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT context, content FROM kb_chunks WHERE kb_id = :kb"),
                                  {"kb": kb_id.removeprefix("kb-")})
        return [f"{row.context}\n{row.content}" if row.context else row.content
                for row in rows]


async def _in_process_rate(chunks: list[str], runtime: str) -> float:
    """The model alone on `runtime` as the ingester runs it by default (all cores, batches of
    32 grouped by length), one call for all the chunks."""
    settings = IngesterSettings()
    torch = await LocalProvider.load(batch_size=settings.embedding_batch_size)
    provider: EmbeddingProvider = torch
    if runtime == "onnx":
        provider = await OnnxProvider.load(await asyncio.to_thread(default_model_path),
                                           settings.onnx_cache_dir, settings.embedding_threads,
                                           reference=torch,
                                           batch_size=settings.embedding_batch_size,
                                           nice=settings.embedding_nice)
    await provider.embed(chunks[:32])  # warm-up
    started = time.perf_counter()
    await provider.embed(chunks)
    rate = len(chunks) / (time.perf_counter() - started)
    for loaded in {provider, torch}:
        await loaded.close()
    return rate


async def _fill(db: AsyncEngine, kb_id: str, eval_kb_id: str) -> tuple[int, float]:
    """Grow the knowledge base to STORED_CHUNKS chunks: copies of its real chunks and of the
    bilingual evaluation corpus' (keyword vectors included) with jittered (re-normalised)
    embeddings, spread over synthetic documents. The HNSW and GIN indexes are dropped for the
    bulk insert and rebuilt once (the same definitions as the migrations'): building them in
    one pass is several times faster than 100,000 single inserts into them."""
    kb = kb_id.removeprefix("kb-")
    sources = [kb, eval_kb_id.removeprefix("kb-")]
    async with db.begin() as conn:
        tenant = await conn.scalar(text("SELECT tenant_id FROM knowledge_bases WHERE id = :kb"),
                                   {"kb": kb})
        have = await conn.scalar(text("SELECT count(*) FROM kb_chunks WHERE kb_id = :kb"),
                                 {"kb": kb})
        base = await conn.scalar(text(
            "SELECT count(*) FROM kb_chunks WHERE kb_id = ANY(CAST(:kbs AS uuid[]))"),
            {"kbs": sources})
        await conn.execute(text("DROP INDEX kb_chunks_embedding"))
        await conn.execute(text("DROP INDEX kb_chunks_keywords"))
        await conn.execute(text(
            """INSERT INTO kb_documents (id, kb_id, tenant_id, filename, format, content_type,
                size_bytes, content_hash, storage_key)
            SELECT gen_random_uuid(), :kb, :tenant, 'synthetic-' || g || '.txt', 'txt',
                'text/plain', 0, md5(g::text), 'none'
            FROM generate_series(1, :docs) g"""),
            {"kb": kb, "tenant": tenant, "docs": (STORED_CHUNKS - have) // 100 + 1})
        await conn.execute(text(
            """WITH base AS (SELECT row_number() OVER () AS n, context, content, embedding,
                    keywords FROM kb_chunks WHERE kb_id = ANY(CAST(:kbs AS uuid[]))),
                docs AS (SELECT row_number() OVER () AS n, id FROM kb_documents
                    WHERE kb_id = :kb AND filename LIKE 'synthetic-%'),
                g AS (SELECT i FROM generate_series(0, :missing - 1) i)
            INSERT INTO kb_chunks (document_id, kb_id, tenant_id, seq, context, content,
                embedding, keywords)
            SELECT docs.id, :kb, :tenant, g.i % 100, base.context, base.content,
                l2_normalize(base.embedding + (SELECT array_agg((random() - 0.5) * :noise)
                    FROM generate_series(1, 384 + 0 * g.i))::vector), base.keywords
            FROM g JOIN base ON base.n = g.i % :base + 1 JOIN docs ON docs.n = g.i / 100 + 1"""),
            {"kb": kb, "kbs": sources, "tenant": tenant, "missing": STORED_CHUNKS - have,
             "base": base, "noise": NOISE})
    started = time.perf_counter()
    async with db.begin() as conn:
        await conn.execute(text("SET maintenance_work_mem = '1GB'"))
        await conn.execute(text(
            "CREATE INDEX kb_chunks_embedding ON kb_chunks USING hnsw "
            "(embedding vector_cosine_ops)"))
        await conn.execute(text(
            "CREATE INDEX kb_chunks_keywords ON kb_chunks USING gin (keywords)"))
        await conn.execute(text("ANALYZE kb_chunks"))
        total = await conn.scalar(text("SELECT count(*) FROM kb_chunks"))
    return int(total or 0), time.perf_counter() - started


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _latency_queries() -> list[str]:
    """The generated corpus' queries and the evaluation's real questions (Chinese and
    English), shuffled, QUERIES in all."""
    real = [*kb_eval.CHINESE, *kb_eval.ENGLISH]
    mixed = queries(QUERIES - len(real)) + real
    random.Random(7).shuffle(mixed)
    return mixed


async def _search_latency(client: httpx.AsyncClient, kb_id: str,
                          mode: str = "hybrid") -> dict[str, float]:
    """Through the gateway: p50/p95 of the whole request and of the ingester's own time
    (`took_ms`: query embedding, SQL, fusion), the rest being the gateway and the RPC."""
    latencies, inside = [], []
    for query in _latency_queries():
        started = time.perf_counter()
        response = await client.post(f"/api/v1/knowledge-bases/{kb_id}/search",
                                     json={"query": query, "top_k": 10, "mode": mode})
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        data = response.json()["data"]
        assert len(data["results"]) == 10
        inside.append(data["took_ms"])
    (p50, p95), (in_p50, in_p95) = _percentiles(latencies), _percentiles(inside)
    return {"p50": p50, "p95": p95, "ingester_p50": in_p50, "ingester_p95": in_p95}


class _StoredVectors:
    """Stands in for the query model: stored chunk vectors, one per query in turn."""

    name = "stored"
    dimensions = 384

    def __init__(self, vectors: list[list[float]]) -> None:
        self.vectors = vectors

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors.pop() for _ in texts]

    async def close(self) -> None:
        pass


async def _sql_latency(db: AsyncEngine, kb_id: str) -> tuple[float, float]:
    """The ingester's hybrid search without its model: its statements (keyword and vector
    rankings, the winners' rows) and fusion, stored vectors standing in for the queries'."""
    async with db.connect() as conn:
        vectors = [list(map(float, row.embedding.strip("[]").split(","))) for row in
                   await conn.execute(text("""SELECT embedding::text AS embedding FROM kb_chunks
                       ORDER BY random() LIMIT :n"""), {"n": QUERIES})]
        tenant = await _tenant(conn, kb_id)
    settings = IngesterSettings()
    service = SearchService(db, _StoredVectors(vectors), repo.Fusion(),
                            coverage=coverage(settings),
                            keyword_budget=settings.search_keyword_budget)
    latencies = []
    for query in _latency_queries():
        request = SearchChunks(tenant_id=tenant, kb_id=kb_id.removeprefix("kb-"), query=query,
                               top_k=10)
        started = time.perf_counter()
        hits = await service.search(request, 10)
        latencies.append((time.perf_counter() - started) * 1000)
        assert len(hits) == 10
    return _percentiles(latencies)


async def _embedding_latency() -> tuple[float, float]:
    """The query model alone as the ingester runs it (ONNX Runtime, one thread), one query
    at a time, every benchmark query (those the model cannot read included)."""
    torch = await LocalProvider.load(threads=1)
    provider = await OnnxProvider.load(await asyncio.to_thread(default_model_path),
                                       IngesterSettings().onnx_cache_dir, 1, reference=torch)
    latencies = []
    for query in _latency_queries():
        started = time.perf_counter()
        await provider.embed([query])
        latencies.append((time.perf_counter() - started) * 1000)
    for loaded in (provider, torch):
        await loaded.close()
    return _percentiles(latencies)


async def _tenant(conn: Any, kb_id: str) -> str:
    return str(await conn.scalar(text("SELECT tenant_id FROM knowledge_bases WHERE id = :kb"),
                                 {"kb": kb_id.removeprefix("kb-")}))


_FORMATS = {".txt": "txt", ".md": "markdown", ".html": "html", ".docx": "docx", ".pdf": "pdf"}


def _expected_chunks() -> list[str]:
    """The texts the ingester will embed for the corpus, made here by the same extraction and
    chunker (default settings), so the model alone can be timed before the sync too."""
    count = token_counter()
    texts: list[str] = []
    for filename, content in corpus(DOCUMENTS):
        fmt = _FORMATS[filename[filename.rindex("."):]]
        texts += [chunk.text for chunk in chunk_document(
            extract_text(content, fmt, Limits()), 200, 30, count)]
    return texts


@contextlib.asynccontextmanager
async def _stack() -> AsyncIterator[tuple[AsyncEngine, httpx.AsyncClient]]:
    """The benchmark's own stack: a database engine and a gateway client with a token."""
    services = ["registry", "scheduler", "gateway", "ingester"]
    # The search re-reads keyword statistics soon after the fill's ANALYZE.
    stack = isolated_stack(services, {"CONVEYOR_INGESTER_SEARCH_STATS_REFRESH_S": "5"})
    async with stack as (cluster, url, token):
        db = create_engine(cluster.env["CONVEYOR_DATABASE_URL"], pool_size=2)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
                yield db, client
        finally:
            await db.dispose()


async def run() -> dict[str, Any]:
    """Each phase prints its figures as soon as it has them (a long run on a shared machine may
    not reach the end)."""
    async with _stack() as (db, client):
        expected = _expected_chunks()
        runtime = IngesterSettings().document_runtime  # what the ingester embeds chunks on
        torch_rate = await _in_process_rate(expected, "torch")
        before = await _in_process_rate(expected, runtime)
        # Both sides warm: the model alone gets a warm-up call; the ingester, fresh from its
        # start, a warm-up sync of other documents (its database connections, extraction
        # workers and model sessions in use), as an ingester that has been running is.
        await synced_knowledge_base(client, "warm-up", corpus(WARM_UP, first=DOCUMENTS))
        kb_id, task, elapsed = await synced_knowledge_base(client, "bench",
                                                           corpus(DOCUMENTS))
        chunks = await _chunks(db, kb_id)
        assert sorted(chunks) == sorted(expected), "the ingester chunked differently"
        end_to_end = len(chunks) / elapsed
        after = await _in_process_rate(chunks, runtime)
        # The machine is shared: the model alone is timed right before and right after
        # the sync, and the sync compared with the mean of the two.
        in_process = (before + after) / 2
        print(f"ingest: {task['total_documents']} documents, {len(chunks)} chunks in "
              f"{elapsed:.1f}s = {end_to_end:.1f} chunks/s end to end "
              f"({task['total_documents'] / elapsed:.1f} documents/s)")
        print(f"same model on the same runtime ({runtime}), same chunks, in one process: "
              f"{before:.1f} chunks/s before, {after:.1f} after; ratio "
              f"{end_to_end / in_process:.2f} (sentence-transformers on torch alone: "
              f"{torch_rate:.1f} chunks/s, ratio {end_to_end / torch_rate:.2f})", flush=True)
        eval_kb, retrieval = await kb_eval.evaluate_all(client)
        search = await _search_at_scale(db, client, kb_id, eval_kb)
    return {
        "documents": task["total_documents"], "chunks": len(chunks), "ingest_s": elapsed,
        "end_to_end_chunks_per_s": end_to_end, "in_process_chunks_per_s": in_process,
        "in_process_before": before, "in_process_after": after, "runtime": runtime,
        "torch_alone_chunks_per_s": torch_rate,
        "ratio": end_to_end / in_process, "retrieval": retrieval, **search}


async def _search_at_scale(db: AsyncEngine, client: httpx.AsyncClient, kb_id: str,
                           eval_kb: str) -> dict[str, Any]:
    stored, index_s = await _fill(db, kb_id, eval_kb)
    await asyncio.sleep(6)  # the ingester's keyword statistics catch up
    hybrid = await _search_latency(client, kb_id)
    vector = await _search_latency(client, kb_id, "vector")
    sql_p50, sql_p95 = await _sql_latency(db, kb_id)
    embed_p50, embed_p95 = await _embedding_latency()
    print(f"search over {stored:,} chunks (HNSW + GIN built in {index_s:.0f}s), {QUERIES} "
          f"queries, top 10, through the gateway: hybrid p50 {hybrid['p50']:.1f} ms, p95 "
          f"{hybrid['p95']:.1f} ms (in the ingester p50 {hybrid['ingester_p50']:.1f}, p95 "
          f"{hybrid['ingester_p95']:.1f}); vector only p50 {vector['p50']:.1f} ms, p95 "
          f"{vector['p95']:.1f} ms; hybrid search without the model (SQL + fusion, in this "
          f"process) p50 {sql_p50:.1f} ms, p95 {sql_p95:.1f} ms; query embedding alone p50 "
          f"{embed_p50:.1f} ms, p95 {embed_p95:.1f} ms", flush=True)
    return {"stored_chunks": stored, "index_build_s": index_s,
            "search_p50_ms": hybrid["p50"], "search_p95_ms": hybrid["p95"],
            "search_ingester_p50_ms": hybrid["ingester_p50"],
            "search_ingester_p95_ms": hybrid["ingester_p95"],
            "vector_search_p50_ms": vector["p50"], "vector_search_p95_ms": vector["p95"],
            "sql_p50_ms": sql_p50, "sql_p95_ms": sql_p95,
            "embedding_p50_ms": embed_p50, "embedding_p95_ms": embed_p95}


async def run_search() -> dict[str, Any]:
    """Only the search at 100,000 chunks, grown from the evaluation corpus alone (no 200-document
    ingest first): `python -m bench.kb search`."""
    async with _stack() as (db, client):
        eval_kb = await kb_eval.build(client)
        return await _search_at_scale(db, client, eval_kb, eval_kb)


if __name__ == "__main__":
    if sys.argv[1:] == ["search"]:
        uvloop.run(run_search())
    else:
        uvloop.run(run())
