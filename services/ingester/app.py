"""Wires the ingester: embedding providers, the extraction forkserver, the index pipeline, the
kb_sync worker and the hybrid search server (with its optional reranker)."""

import asyncio

from libs.db.engine import create_engine
from libs.logging import get_logger
from libs.messaging import rpc
from libs.messaging.connection import connect
from libs.netguard import UrlPolicy
from libs.storage import Storage
from libs.tasks.kinds import KB_SYNC
from libs.worker.runtime import Worker
from proto.kb import SearchChunks
from proto.topology import Queue
from services.ingester.embeddings.base import EmbeddingProvider
from services.ingester.embeddings.local import LocalProvider
from services.ingester.embeddings.openai_http import HttpProvider
from services.ingester.extract import FORMAT_LABELS
from services.ingester.handler import SyncDocument
from services.ingester.isolation import run_isolated
from services.ingester.ocr import Ocr
from services.ingester.pipeline import IndexPipeline
from services.ingester.repository import Fusion
from services.ingester.rerank import Reranker
from services.ingester.search import SearchService
from services.ingester.settings import IngesterSettings
from services.ingester.tokens import known_share

log = get_logger(__name__)

EMBEDDING_COLUMN_DIMENSIONS = 384  # kb_chunks.embedding is vector(384)


async def build_provider(settings: IngesterSettings, threads: int) -> EmbeddingProvider:
    if settings.embedding_provider == "http":
        if not settings.embedding_url:
            raise SystemExit("CONVEYOR_INGESTER_EMBEDDING_URL is required for the http provider")
        return HttpProvider(settings.embedding_url, settings.embedding_model,
                            api_key=settings.embedding_api_key,
                            dimensions=settings.embedding_dimensions,
                            batch_size=settings.embedding_batch_size)
    if settings.embedding_provider == "local":
        return await LocalProvider.load(settings.embedding_model_path,
                                        batch_size=settings.embedding_batch_size,
                                        threads=threads)
    raise SystemExit(f"unknown embedding provider {settings.embedding_provider!r}")


async def run(settings: IngesterSettings, stopping: asyncio.Event) -> None:
    documents = await build_provider(settings, settings.embedding_threads)
    if documents.dimensions != EMBEDDING_COLUMN_DIMENSIONS:
        raise SystemExit(f"{documents.name} gives {documents.dimensions}-dimensional vectors; "
                         f"the chunk table holds {EMBEDDING_COLUMN_DIMENSIONS}")
    # Queries get their own model instance, so a search never waits behind a document batch.
    queries = (await build_provider(settings, settings.search_threads)
               if settings.embedding_provider == "local" else documents)
    # Boot the forkserver now rather than on the first document.
    await asyncio.to_thread(run_isolated, len, b"", timeout_s=60, memory_bytes=1 << 30)
    db = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    pipeline = IndexPipeline(documents, db, settings.embedding_batch_size)
    pipeline.start()
    ocr = (Ocr.detect(settings.ocr_languages, settings.ocr_timeout_s,
                      settings.extract_memory_bytes) if settings.ocr_enabled else None)
    handler = SyncDocument(settings, db, Storage(settings), pipeline, documents.name, ocr)
    worker = Worker(
        settings, "ingester", {KB_SYNC.name: handler},
        concurrency=settings.concurrency, prefetch=settings.prefetch,
        capabilities={"formats": sorted(FORMAT_LABELS), "embedding_model": documents.name,
                      "dimensions": documents.dimensions,
                      "ocr": ocr.languages if ocr else None},
    )
    connection = await connect(settings.amqp_url, name=settings.instance("ingester-search"))
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=4)
    fusion = Fusion(vector_weight=settings.search_vector_weight,
                    keyword_weight=settings.search_keyword_weight, rrf_k=settings.search_rrf_k,
                    depth=settings.search_depth)
    reranker = (Reranker(settings.rerank_url, settings.rerank_model,
                         api_key=settings.rerank_api_key,
                         policy=UrlPolicy.from_setting(settings.server_url_allowlist),
                         timeout_s=settings.rerank_timeout_s) if settings.rerank_url else None)
    # Only a local model's vocabulary is known here; a remote model is trusted as it is.
    readable = (known_share(settings.embedding_model_path)
                if settings.embedding_provider == "local" else None)
    search = SearchService(db, queries, fusion, readable=readable, reranker=reranker,
                           rerank_candidates=settings.rerank_candidates,
                           keyword_budget=settings.search_keyword_budget,
                           stats_refresh_s=settings.search_stats_refresh_s)
    await rpc.serve(channel, Queue.KB_SEARCH, SearchChunks, search)
    log.info("ingester.models_loaded", model=documents.name)
    try:
        await worker.run(stopping)
    finally:
        await connection.close()
        await pipeline.stop()
        if reranker:
            await reranker.close()
        await documents.close()
        if queries is not documents:
            await queries.close()
        await db.dispose()
