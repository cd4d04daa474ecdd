from libs.settings import CommonSettings


class IngesterSettings(CommonSettings, kw_only=True):
    """CONVEYOR_INGESTER_<FIELD> (or CONVEYOR_<FIELD>)."""

    # Documents in flight in this instance: while one document's chunks embed, the next ones
    # download, extract and store, so the model always has a batch waiting.
    # Enough to keep a full batch of chunks waiting for the model (services/ingester/pipeline.py).
    concurrency: int = 32
    prefetch: int = 32
    # One database connection per document in flight: with fewer, every burst of claims and
    # reads opened and closed connections (a PostgreSQL backend each) and a 200-document sync
    # ran ~5% slower (bench/RESULTS.md, issue 15).
    db_pool_size: int = 32
    # Embeddings: "local" (sentence-transformers, offline) or "http" (OpenAI-compatible API).
    embedding_provider: str = "local"
    embedding_model_path: str = ""  # local: a model directory; default all-MiniLM-L6-v2
    embedding_threads: int = 0  # local: threads for documents (0: one per core)
    # onnx: niceness added to the threads that embed documents (0: none). The model is a
    # sync's slowest stage and always has chunks queued, so it loses nothing by taking only
    # the CPU the rest leaves, while everything that feeds it (downloads, extraction, writes,
    # the scheduler) and every search's query embedding goes first (a probe of the
    # 200-document sync: 14.1-14.7 s against 14.3-15.2; within noise in `bench kb`). Linux nice
    # values: other processes at normal priority go first too.
    embedding_nice: int = 10
    search_threads: int = 1  # local: threads for a query (one is fastest, see local.py)
    # local: documents and queries on ONNX Runtime ("onnx": about 2x torch for documents'
    # batches, 2-3x for one query; the model is exported once into onnx_cache_dir and checked
    # against torch at start, torch if it differs) or on torch ("torch").
    document_runtime: str = "onnx"
    query_runtime: str = "onnx"
    onnx_cache_dir: str = "~/.cache/conveyor/onnx"
    embedding_url: str = ""  # http: base URL, e.g. https://api.example.com/v1
    embedding_model: str = "text-embedding-3-small"  # http: model name
    embedding_api_key: str = ""
    embedding_dimensions: int = 384  # must match the kb_chunks.embedding column
    embedding_batch_size: int = 32
    # The scripts the embedding model reads ("latin", "cjk", "other", comma-separated, or
    # "all"): a hybrid search weighs its vector ranking by the share of the query written in
    # them (services/ingester/fusion.py). Empty: the default model's, "latin" for the local
    # all-MiniLM-L6-v2 (English); "all" for an http model (a model that reads Chinese, say
    # text-embedding-3 or bge-m3 behind an OpenAI-compatible API, then leads on Chinese too).
    embedding_scripts: str = ""
    # Batches per model call (pipeline.py): a call's chunks are grouped by length into its
    # batches, and the documents a call completes are stored together. Two kept the model as
    # busy as four and stored documents in smaller, steadier groups (the 200-document sync
    # ran 0.3-1 s faster).
    embedding_call_batches: int = 2
    # Chunking, in the model's tokens (services/ingester/chunker.py), context included; the
    # model reads 256 at most. tokenizer_path: a directory with tokenizer.json (default: the
    # local model's).
    tokenizer_path: str = ""
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 30
    max_chunks_per_document: int = 20_000
    # Hostile-input bounds: per document, enforced whatever the gateway accepted.
    max_document_bytes: int = 50 * 1024 * 1024
    max_text_chars: int = 5_000_000
    max_unzipped_bytes: int = 200 * 1024 * 1024
    extract_memory_bytes: int = 1024 * 1024 * 1024
    extract_timeout_s: float = 120.0
    # Long-lived extraction processes (services/ingester/isolation.py); other documents wait
    # for a free one. Extraction is CPU-bound and shares the cores with the embedding model:
    # more workers than cores would only take CPU from it; two keep one document extracting
    # while another's bytes and chunks cross the pipes, and one slow document from holding up
    # the rest. Each may use up to extract_memory_bytes.
    extract_workers: int = 2
    # They serve every tenant: one tenant's documents use at most this many at once (0: all
    # but one), so a tenant's flood of slow documents leaves the others a worker.
    extract_workers_per_tenant: int = 0
    # OCR of images embedded in PDF and DOCX files (needs tesseract; skipped without it).
    ocr_enabled: bool = True
    ocr_languages: str = "chi_sim+eng"
    ocr_timeout_s: float = 60.0
    # Search: the vector and keyword rankings (each `search_depth` deep) fused by score, each
    # side's weight scaled per query (services/ingester/fusion.py); an optional
    # OpenAI-compatible rerank endpoint reorders the fused candidates.
    search_vector_weight: float = 1.0
    search_keyword_weight: float = 1.0
    search_depth: int = 50
    # A query keeps its rarest keywords whose shares of all chunks add up to at most this
    # (PostgreSQL's column statistics; keywords.rarest): bounds the rows the keyword side reads.
    search_keyword_budget: float = 0.05
    search_stats_refresh_s: float = 60.0  # how often those statistics are re-read
    rerank_url: str = ""  # e.g. https://api.example.com/v1 (POST {url}/rerank); off when empty
    rerank_model: str = ""
    rerank_api_key: str = ""
    rerank_candidates: int = 20
    rerank_timeout_s: float = 5.0
