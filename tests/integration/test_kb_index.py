"""The ingester's index against a real PostgreSQL: the pipeline embeds across documents in full
batches and stores each batch in one transaction (vectors and keywords together); hybrid search
fuses the vector and keyword rankings, says which signals matched, stays inside one knowledge
base of one tenant; deleting a document removes its keyword rows with its vectors."""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.engine import create_engine
from proto.kb import SearchChunks
from services.ingester import repository as repo
from services.ingester.chunker import Chunk
from services.ingester.fusion import Coverage
from services.ingester.pipeline import IndexPipeline
from services.ingester.repository import Document, Fusion
from services.ingester.search import SearchService

DIMENSIONS = 384


def _vector(text_: str) -> list[float]:
    """A bag-of-words embedding: texts sharing Latin words point the same way."""
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"[a-z]+", text_.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    vector[0] += 0.01  # never the zero vector
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


class FakeModel:
    name = "fake"
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        await asyncio.sleep(0.02)  # the model is busy: more documents queue meanwhile
        return [_vector(t) for t in texts]

    async def close(self) -> None:
        pass


@pytest_asyncio.fixture(loop_scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


async def _knowledge_base(db: AsyncEngine, tenant: str | None = None) -> tuple[str, str]:
    async with db.begin() as conn:
        if tenant is None:
            tenant = str(await conn.scalar(text(
                "INSERT INTO tenants (name) VALUES (:n) RETURNING id"), {"n": uuid.uuid4().hex}))
        kb_id = str(uuid.uuid4())
        await conn.execute(text("""INSERT INTO knowledge_bases (id, tenant_id, name)
            VALUES (:id, :t, :n)"""), {"id": kb_id, "t": tenant, "n": kb_id})
    return tenant, kb_id


async def _document(db: AsyncEngine, tenant: str, kb_id: str, name: str) -> Document:
    document = Document(id=str(uuid.uuid4()), kb_id=kb_id, tenant_id=tenant, filename=name,
                        format="txt", size_bytes=1, content_hash=name, storage_key=name)
    async with db.begin() as conn:
        await conn.execute(text("""INSERT INTO kb_documents (id, kb_id, tenant_id, filename,
                format, content_type, size_bytes, content_hash, storage_key)
            VALUES (:id, :kb, :t, :f, 'txt', 'text/plain', 1, :f, :f)"""),
            {"id": document.id, "kb": kb_id, "t": tenant, "f": name})
    return document


async def _index(db: AsyncEngine, documents: dict[Document, list[Chunk]],
                 batch_size: int = 16,
                 call_size: int | None = None) -> tuple[FakeModel, list[bool]]:
    model = FakeModel()
    pipeline = IndexPipeline(model, db, batch_size, call_size=call_size)
    pipeline.start()
    try:
        stored = await asyncio.gather(*(
            pipeline.index(doc, chunks, fingerprint="f", task_id=str(uuid.uuid4()))
            for doc, chunks in documents.items()))
    finally:
        await pipeline.stop()
    return model, list(stored)


async def _search(db: AsyncEngine, tenant: str, kb_id: str, query: str, mode: str = "hybrid",
                  top_k: int = 5) -> list[Any]:
    """The ingester's search with the fake model, as if it read every script."""
    service = SearchService(db, FakeModel(), Fusion(), coverage=Coverage.parse("all"),
                            stats_refresh_s=0)
    request = SearchChunks(tenant_id=tenant, kb_id=kb_id, query=query, top_k=top_k,
                           mode=mode)  # type: ignore[arg-type]
    return await service.search(request, top_k)


async def test_pipeline_calls_may_take_several_batches(db: AsyncEngine) -> None:
    """A local model then groups a call's chunks of similar length into its batches."""
    tenant, kb_id = await _knowledge_base(db)
    more = {await _document(db, tenant, kb_id, f"more{d}.txt"): [
        Chunk(f"Part {d}", "x " * (1 + (d * 7 + c) % 13)) for c in range(5)] for d in range(10)}
    model, stored = await _index(db, more, call_size=32)
    assert stored == [True] * 10
    assert model.calls == [32, 18], "50 chunks in calls of two batches of 16"


async def test_pipeline_fills_batches_across_documents_and_writes_once_per_batch(
    db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, kb_id = await _knowledge_base(db)
    writes: list[int] = []
    store = repo.store_documents

    async def counting_store(conn: Any, batch: list[repo.IndexedDocument]) -> set[str]:
        writes.append(len(batch))
        return await store(conn, batch)

    monkeypatch.setattr(repo, "store_documents", counting_store)
    documents = {await _document(db, tenant, kb_id, f"doc{d}.txt"): [
        Chunk(f"Part {d}", f"document {d} chunk {c} about tea") for c in range(5)]
        for d in range(10)}
    model, stored = await _index(db, documents)
    assert stored == [True] * 10
    assert model.calls == [16, 16, 16, 2], "50 chunks of 10 documents in full batches"
    assert len(writes) <= len(model.calls) and sum(writes) == 10
    async with db.connect() as conn:
        rows = (await conn.execute(text("""SELECT count(*) AS n,
                count(*) FILTER (WHERE keywords @@ CAST('tea' AS tsquery)) AS with_keywords,
                count(DISTINCT context) AS contexts
            FROM kb_chunks WHERE kb_id = :kb"""), {"kb": kb_id})).one()
        indexed = await conn.scalar(text("""SELECT count(*) FROM kb_document_index i
            JOIN kb_documents d ON d.id = i.document_id WHERE d.kb_id = :kb"""), {"kb": kb_id})
    assert (rows.n, rows.with_keywords, rows.contexts, indexed) == (50, 50, 10, 10)


async def test_a_document_deleted_while_embedding_is_not_stored(db: AsyncEngine) -> None:
    tenant, kb_id = await _knowledge_base(db)
    kept = await _document(db, tenant, kb_id, "kept.txt")
    gone = await _document(db, tenant, kb_id, "gone.txt")
    async with db.begin() as conn:
        await conn.execute(text("DELETE FROM kb_documents WHERE id = :id"), {"id": gone.id})
    _, stored = await _index(db, {kept: [Chunk("", "kept words")],
                                  gone: [Chunk("", "gone words")]})
    assert stored == [True, False]


async def test_hybrid_search_fuses_rankings_and_says_which_signals_matched(
    db: AsyncEngine
) -> None:
    tenant, kb_id = await _knowledge_base(db)
    docs = {name: await _document(db, tenant, kb_id, name)
            for name in ("panda.txt", "tea.txt", "rail.txt")}
    await _index(db, {
        docs["panda.txt"]: [Chunk("熊猫", "大熊猫主要以竹子为食，生活在四川的山区。")],
        docs["tea.txt"]: [Chunk("茶", "龙井茶产于杭州西湖。green tea leaves are picked in spring")],
        docs["rail.txt"]: [Chunk("", "High speed trains in spring carry green passengers")],
    })
    # Chinese: the fake model sees no Latin words, so only the keyword ranking knows.
    hits = await _search(db, tenant, kb_id, "熊猫吃什么？")
    assert hits[0].filename == "panda.txt"
    assert hits[0].matched == ["vector", "keyword"] and hits[0].keyword_rank == 1
    assert hits[0].score == max(hit.score for hit in hits) and 0 < hits[0].score <= 1
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert hits[0].context == "熊猫" and hits[0].similarity is not None

    keyword_only = await _search(db, tenant, kb_id, "龙井茶", mode="keyword")
    assert [hit.filename for hit in keyword_only] == ["tea.txt"]
    assert keyword_only[0].matched == ["keyword"] and keyword_only[0].similarity is None

    vector_only = await _search(db, tenant, kb_id, "green spring", mode="vector")
    assert {hit.filename for hit in vector_only[:2]} == {"tea.txt", "rail.txt"}
    assert all(hit.matched == ["vector"] and hit.keyword_rank is None for hit in vector_only)

    # In both rankings beats in one: tea.txt matches 龙井 and "green tea" by keyword.
    fused = await _search(db, tenant, kb_id, "green tea 龙井")
    assert fused[0].filename == "tea.txt" and fused[0].matched == ["vector", "keyword"]
    assert set(fused[0].weights) == {"vector", "keyword"} and min(fused[0].weights.values()) > 0


async def test_search_never_leaves_its_knowledge_base_or_tenant(db: AsyncEngine) -> None:
    tenant, kb_id = await _knowledge_base(db)
    _, other_kb = await _knowledge_base(db, tenant)
    stranger, strangers_kb = await _knowledge_base(db)
    mine = await _document(db, tenant, kb_id, "mine.txt")
    await _index(db, {
        mine: [Chunk("", "茶叶 tea")],
        await _document(db, tenant, other_kb, "other.txt"): [Chunk("", "茶叶 tea")],
        await _document(db, stranger, strangers_kb, "theirs.txt"): [Chunk("", "茶叶 tea")],
    })
    for mode in ("hybrid", "vector", "keyword"):
        hits = await _search(db, tenant, kb_id, "茶叶 tea", mode=mode, top_k=10)
        assert [hit.document_id for hit in hits] == [mine.id], mode
    assert await _search(db, stranger, kb_id, "茶叶 tea") == []  # right kb, wrong tenant


async def test_deleting_a_document_removes_its_keyword_rows(db: AsyncEngine) -> None:
    tenant, kb_id = await _knowledge_base(db)
    doc = await _document(db, tenant, kb_id, "bamboo.txt")
    await _index(db, {doc: [Chunk("竹林", "竹子生长很快"), Chunk("", "bamboo grows fast")]})
    assert len(await _search(db, tenant, kb_id, "竹子 bamboo", mode="keyword")) == 2
    async with db.begin() as conn:
        await conn.execute(text("DELETE FROM kb_documents WHERE id = :id"), {"id": doc.id})
    async with db.connect() as conn:
        left = await conn.scalar(text("""SELECT count(*) FROM kb_chunks
            WHERE document_id = :id OR (kb_id = :kb AND keywords @@ CAST('竹子' AS tsquery))"""),
            {"id": doc.id, "kb": kb_id})
    assert left == 0
    assert await _search(db, tenant, kb_id, "竹子 bamboo", mode="keyword") == []


async def test_reindexing_replaces_a_documents_chunks_atomically(db: AsyncEngine) -> None:
    tenant, kb_id = await _knowledge_base(db)
    doc = await _document(db, tenant, kb_id, "v.txt")
    await _index(db, {doc: [Chunk("", "old words one"), Chunk("", "old words two")]})
    await _index(db, {doc: [Chunk("", "new words")]})
    hits = await _search(db, tenant, kb_id, "old new words", top_k=10)
    assert [hit.content for hit in hits] == ["new words"]
