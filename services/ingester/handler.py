"""One `kb_sync` item: bring one document's chunks up to date with its current content."""

import hashlib
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import Permanent
from libs.logging import get_logger
from libs.observability import metrics
from libs.storage import Storage
from libs.worker.handler import ItemContext, ItemDone
from proto.kb import KbSyncParams, KbSyncPayload, KbSyncResult
from services.ingester import repository as repo
from services.ingester.embeddings.base import EmbeddingError
from services.ingester.extract import FORMAT_LABELS, ExtractionError, Limits
from services.ingester.extract.base import megabytes
from services.ingester.isolation import ExtractionPool, IsolatedFailure
from services.ingester.jobs import chunk_job, extract_job
from services.ingester.ocr import Ocr
from services.ingester.pipeline import IndexPipeline
from services.ingester.settings import IngesterSettings

log = get_logger(__name__)

# Bump when extraction or chunking changes what a document's chunks would be: every document
# is then re-indexed by its next sync instead of being skipped as unchanged.
PIPELINE_VERSION = "2"  # 2: model-tokenizer chunks with heading context, keyword vectors


class SyncDocument:
    def __init__(self, settings: IngesterSettings, db: AsyncEngine, storage: Storage,
                 pipeline: IndexPipeline, model_name: str, ocr: Ocr | None,
                 extraction: ExtractionPool) -> None:
        self._settings = settings
        self._db = db
        self._storage = storage
        self._index = pipeline
        # The tokenizer that sizes chunks: the local model's own (an HTTP provider's model has
        # no local tokenizer; all-MiniLM-L6-v2's WordPiece is then a close stand-in).
        self._tokenizer = settings.tokenizer_path or settings.embedding_model_path
        self._chunking = (settings.chunk_tokens, settings.chunk_overlap_tokens, self._tokenizer)
        self._ocr = ocr
        self._extraction = extraction
        self._limits = Limits(max_text_chars=settings.max_text_chars,
                              max_unzipped_bytes=settings.max_unzipped_bytes)
        self._recipe = (f"{PIPELINE_VERSION}|{model_name}|{self._tokenizer}|"
                        f"{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|"
                        f"ocr={ocr.languages if ocr else '-'}")

    def fingerprint(self, content_hash: str) -> str:
        """What the chunks are a function of: the bytes, the model and the chunking."""
        return hashlib.sha256(f"{content_hash}|{self._recipe}".encode()).hexdigest()

    async def _isolated(self, tenant: str, label: str, func: Any, *args: Any) -> Any:
        try:
            return await self._extraction.run(tenant, func, *args)
        except ExtractionError as exc:
            raise Permanent(str(exc)) from None
        except IsolatedFailure as exc:
            raise Permanent(f"{label}失败: {exc}") from None

    async def _read_images(self, ctx: ItemContext, text: str, images: list[bytes]) -> str:
        """The document's text followed by what OCR reads in its images."""
        assert self._ocr is not None
        texts = [text]
        for number, image in enumerate(images, start=1):
            await ctx.report_step(f"正在处理图片 {number}/{len(images)}")
            texts.append(await self._ocr.read(image))
        return "\n\n".join(part for part in texts if part.strip())

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        payload: KbSyncPayload = ctx.payload
        params: KbSyncParams = ctx.params
        document_id = payload.document_id
        async with self._db.connect() as conn:
            found = await repo.load_document(conn, document_id)
        if found is None:
            raise Permanent("文档不存在或已被删除")
        document, indexed = found
        fingerprint = self.fingerprint(document.content_hash)
        if indexed is not None and indexed.fingerprint == fingerprint:
            return ItemDone(result=KbSyncResult(chunks_created=0, skipped=True,
                                                chunk_count=indexed.chunk_count),
                            usage={"skipped_documents": 1})
        position = f"({ctx.item.seq + 1}/{params.total_documents or '?'})"
        name = document.filename
        label = FORMAT_LABELS.get(document.format, document.format.upper())
        started = time.perf_counter()

        await ctx.report_step(f"正在下载文档 {name} {position}")
        limit = self._settings.max_document_bytes
        if document.size_bytes > limit:
            raise Permanent(f"文件过大: {megabytes(document.size_bytes)}，上限 {megabytes(limit)}")
        try:
            data = await self._storage.get_bytes(document.storage_key, limit)
        except ValueError:
            raise Permanent(f"文件过大: 超过上限 {megabytes(limit)}") from None
        if hashlib.sha256(data).hexdigest() != document.content_hash:
            # The document was replaced while we downloaded: the next attempt reads it anew.
            raise RuntimeError("下载的内容与文档记录不符（文档可能刚被替换）")

        await ctx.report_step(f"正在转换{label} {name} {position}")
        extracting = time.perf_counter()
        text, images, chunks = await self._isolated(
            ctx.tenant_id, f"{label}转换", extract_job, data, document.format, self._limits,
            self._ocr is not None, self._chunking)
        metrics.INGEST_EXTRACT_SECONDS.labels(document.format).observe(
            time.perf_counter() - extracting)
        if images:
            text = await self._read_images(ctx, text, images)
        if not text.strip():
            raise Permanent(f"{label}转换失败: 未提取到文本（可能是扫描件或空文档）")
        if chunks is None:  # the text grew by what OCR read: chunk it now
            await ctx.report_step(f"正在分块 {name} {position}")
            chunks = await self._isolated(ctx.tenant_id, "分块", chunk_job, text, *self._chunking)
        if len(chunks) > self._settings.max_chunks_per_document:
            raise Permanent(f"分块过多: {len(chunks):,}，上限 "
                            f"{self._settings.max_chunks_per_document:,}")

        # Embedded in batches shared with the other documents in flight, then stored with the
        # documents its batch completed, in one transaction (services/ingester/pipeline.py).
        await ctx.report_step(f"正在向量化 {name} {position}")
        try:
            stored = await self._index.index(document, chunks, fingerprint=fingerprint,
                                             task_id=ctx.task_id)
        except EmbeddingError as exc:
            raise RuntimeError(f"向量化失败: {exc}") from exc
        if not stored:
            raise Permanent("文档在同步期间被删除")
        log.info("kb.document_indexed", document_id=document_id, chunks=len(chunks),
                 ms=int((time.perf_counter() - started) * 1000))
        return ItemDone(
            result=KbSyncResult(chunks_created=len(chunks), skipped=False),
            usage={"documents": 1, "embedded_chunks": len(chunks), "bytes": len(data)},
        )
