"""Wires the ingester: embedding providers, the extraction workers, the index pipeline, the
kb_sync worker and the hybrid search server (with its optional reranker)."""

import asyncio
import subprocess
from functools import partial

from libs.db.engine import create_engine
from libs.lifecycle import Runtime, Service
from libs.logging import get_logger
from libs.messaging.rpc import RpcServer
from libs.netguard import UrlPolicy
from libs.service import run_service
from libs.settings import load_settings
from libs.tasks.kinds import KB_SYNC
from libs.worker.runtime import Worker
from proto.kb import SearchChunks
from proto.topology import Queue
from services.ingester.embeddings.base import EmbeddingProvider
from services.ingester.embeddings.local import LocalProvider
from services.ingester.embeddings.onnx_local import OnnxProvider, OnnxUnavailable
from services.ingester.embeddings.openai_http import HttpProvider
from services.ingester.extract import FORMAT_LABELS
from services.ingester.fusion import Coverage
from services.ingester.handler import SyncDocument
from services.ingester.isolation import ExtractionPool
from services.ingester.ocr import Ocr
from services.ingester.pipeline import IndexPipeline
from services.ingester.repository import Fusion
from services.ingester.rerank import Reranker
from services.ingester.search import SearchService
from services.ingester.settings import IngesterSettings
from services.ingester.tokens import default_model_path

log = get_logger(__name__)

EMBEDDING_COLUMN_DIMENSIONS = 384  # kb_chunks.embedding is vector(384)
SEARCH_PREFETCH = 4  # searches one ingester runs at a time


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


async def _on_onnx(settings: IngesterSettings, reference: EmbeddingProvider, threads: int,
                   role: str, nice: int = 0) -> EmbeddingProvider | None:
    """The local model on ONNX Runtime, proven against `reference` (the torch model) at load;
    None, with a warning, when it cannot be (the caller keeps torch)."""
    model_path = settings.embedding_model_path or await asyncio.to_thread(default_model_path)
    try:
        provider = await OnnxProvider.load(model_path, settings.onnx_cache_dir, threads,
                                           reference=reference,
                                           batch_size=settings.embedding_batch_size, nice=nice)
    except (OnnxUnavailable, ImportError, OSError, subprocess.TimeoutExpired) as exc:
        log.warning("ingester.onnx_unavailable", role=role,
                    error=f"{type(exc).__name__}: {exc}", fallback="torch")
        return None
    log.info("ingester.runtime", role=role, runtime="onnx", threads=threads, nice=nice)
    return provider


def _runtime(value: str, setting: str) -> str:
    if value not in ("onnx", "torch"):
        raise SystemExit(f"CONVEYOR_INGESTER_{setting}: unknown runtime {value!r} (onnx or torch)")
    return value


async def build_document_provider(settings: IngesterSettings,
                                  reference: EmbeddingProvider) -> EmbeddingProvider:
    """Documents' chunks on ONNX Runtime (about twice torch's throughput here, half its CPU
    per chunk, which on a busy machine is CPU the rest of a sync gets) when it reproduces
    `reference`, the torch model; else `reference` itself."""
    if (settings.embedding_provider != "local"
            or _runtime(settings.document_runtime, "DOCUMENT_RUNTIME") == "torch"):
        return reference
    return await _on_onnx(settings, reference, settings.embedding_threads, "documents",
                          settings.embedding_nice) or reference


async def build_query_provider(settings: IngesterSettings,
                               documents: EmbeddingProvider) -> EmbeddingProvider:
    """Queries get their own model instance (and thread count), so a search never waits behind
    a document batch; on ONNX Runtime when it reproduces the torch model (onnx_local.py)."""
    if settings.embedding_provider != "local":
        return documents
    if _runtime(settings.query_runtime, "QUERY_RUNTIME") == "onnx":
        provider = await _on_onnx(settings, documents, settings.search_threads, "queries")
        if provider is not None:
            return provider
    return await build_provider(settings, settings.search_threads)


def coverage(settings: IngesterSettings) -> Coverage:
    """The scripts the embedding model reads (CONVEYOR_INGESTER_EMBEDDING_SCRIPTS)."""
    value = settings.embedding_scripts or (
        "all" if settings.embedding_provider == "http" else "latin")
    try:
        return Coverage.parse(value)
    except ValueError as exc:
        raise SystemExit(f"CONVEYOR_INGESTER_EMBEDDING_SCRIPTS: {exc}") from None


def build_search(settings: IngesterSettings, runtime: Runtime,
                 queries: EmbeddingProvider) -> SearchService:
    fusion = Fusion(vector_weight=settings.search_vector_weight,
                    keyword_weight=settings.search_keyword_weight, depth=settings.search_depth)
    reranker = None
    if settings.rerank_url:
        reranker = Reranker(settings.rerank_url, settings.rerank_model,
                            api_key=settings.rerank_api_key,
                            policy=UrlPolicy.from_setting(settings.server_url_allowlist),
                            timeout_s=settings.rerank_timeout_s)
        runtime.exits.push_async_callback(reranker.close)
    # Searches read through a pool of their own without a ping per checkout (a round trip
    # each; a search checks out one or two): after a PostgreSQL restart one search fails and
    # the pool is renewed, as on the gateway's read path. Up to two connections (pool and
    # overflow) for each of the SEARCH_PREFETCH searches at a time.
    db = create_engine(settings.database_url, pool_size=SEARCH_PREFETCH, pre_ping=False)
    runtime.exits.push_async_callback(db.dispose)
    return SearchService(db, queries, fusion, coverage=coverage(settings),
                         reranker=reranker,
                         rerank_candidates=settings.rerank_candidates,
                         keyword_budget=settings.search_keyword_budget,
                         stats_refresh_s=settings.search_stats_refresh_s)


async def build(settings: IngesterSettings, runtime: Runtime) -> Service:
    reference = await build_provider(settings, settings.embedding_threads)
    runtime.exits.push_async_callback(reference.close)
    if reference.dimensions != EMBEDDING_COLUMN_DIMENSIONS:
        raise SystemExit(f"{reference.name} gives {reference.dimensions}-dimensional vectors; "
                         f"the chunk table holds {EMBEDDING_COLUMN_DIMENSIONS}")
    documents = await build_document_provider(settings, reference)
    queries = await build_query_provider(settings, reference)
    for provider in {documents, queries} - {reference}:
        runtime.exits.push_async_callback(provider.close)
    extraction = ExtractionPool(settings.extract_workers, timeout_s=settings.extract_timeout_s,
                                memory_bytes=settings.extract_memory_bytes,
                                per_tenant=settings.extract_workers_per_tenant or None)
    runtime.exits.push_async_callback(extraction.close)
    await extraction.start()
    batch = settings.embedding_batch_size
    pipeline = IndexPipeline(documents, runtime.db, batch,
                             call_size=batch * settings.embedding_call_batches)
    pipeline.start()
    runtime.exits.push_async_callback(pipeline.stop)
    ocr = (Ocr.detect(settings.ocr_languages, settings.ocr_timeout_s,
                      settings.extract_memory_bytes) if settings.ocr_enabled else None)
    handler = SyncDocument(settings, runtime.db, runtime.storage, pipeline, documents.name, ocr,
                           extraction)
    worker = Worker(
        runtime, {KB_SYNC.name: handler},
        concurrency=settings.concurrency, prefetch=settings.prefetch,
        capabilities={"formats": sorted(FORMAT_LABELS), "embedding_model": documents.name,
                      "dimensions": documents.dimensions,
                      "ocr": ocr.languages if ocr else None},
    )
    log.info("ingester.models_loaded", model=documents.name)
    return Service([
        RpcServer(runtime.connection, Queue.KB_SEARCH, SearchChunks,
                  build_search(settings, runtime, queries), prefetch=SEARCH_PREFETCH),
        worker,
    ], worker.capabilities)


def main() -> None:
    settings = load_settings(IngesterSettings, "ingester")
    run_service("ingester", settings, partial(build, settings))
