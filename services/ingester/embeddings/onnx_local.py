"""The local model on ONNX Runtime: the same model as LocalProvider, 2-3x faster for one short
text on one thread (a search's query), since ONNX Runtime runs a fused graph without torch's
per-operator dispatch, and about 2x for documents' batches (measured here on the benchmark's
chunks, two threads: 74 chunks/s against torch's 38, half the CPU per chunk). Measured for
queries: 16-20 ms per Chinese or English question against 39-49 ms for torch on one thread.

The model's transformer is exported to ONNX once per model (onnx_export.py, in a child
process) into a cache directory, keyed by the weights' size and modification time. The
sentence-transformers pipeline around it is all-MiniLM-L6-v2's: tokens truncated to the
model's max_seq_length, mean pooling over the attention mask, L2 normalisation. `load` checks
that, and the export, against the torch model on probe texts: a model whose pipeline differs
(another pooling, say) fails the check and the caller keeps torch for its queries."""

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from services.ingester.embeddings.base import EmbeddingError, EmbeddingProvider

# Texts in both of the model's scripts and of unequal length, embedded as one padded batch.
PROBES = ["How do I cancel a running batch?", "如何创建一个文档批量任务？", "a",
          "Retry the failed items of task 42 after the server comes back; keep the rest."]
MAX_PADDING = 0.1  # of a batch's tokens (length_batches)
AGREEMENT = 0.9999  # cosine similarity each probe's two embeddings must reach
EXPORT_TIMEOUT_S = 300.0


class OnnxUnavailable(Exception):
    """The ONNX path cannot serve this model (export failed, or see OnnxMismatch)."""


class OnnxMismatch(OnnxUnavailable):
    """The ONNX pipeline does not reproduce the torch model's embeddings."""


def _cache_file(model_path: str, cache_dir: str) -> str:
    weights = os.path.join(model_path, "model.safetensors")
    stat = os.stat(weights)
    key = hashlib.sha256(f"{os.path.realpath(weights)}:{stat.st_size}:{stat.st_mtime_ns}"
                         .encode()).hexdigest()[:16]
    return os.path.join(cache_dir, f"{os.path.basename(model_path.rstrip('/'))}-{key}.onnx")


def _export(model_path: str, out_path: str) -> None:
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "services.ingester.embeddings.onnx_export",
                           model_path, out_path], capture_output=True, text=True,
                          timeout=EXPORT_TIMEOUT_S)
    if done.returncode:  # the exporter's own last words say why
        raise OnnxUnavailable(f"export exited {done.returncode}: {done.stderr[-500:].strip()}")


def _max_tokens(model_path: str) -> int:
    with open(os.path.join(model_path, "sentence_bert_config.json")) as config:
        return int(json.load(config)["max_seq_length"])


def _check_pooling(model_path: str) -> None:
    with open(os.path.join(model_path, "1_Pooling", "config.json")) as config:
        pooling = json.load(config)
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    if modes != ["pooling_mode_mean_tokens"]:
        raise OnnxMismatch(f"pooling {modes}: only mean pooling is reproduced")


def prepare(model_path: str, cache_dir: str) -> str:
    """The model's ONNX file, exported first if this cache has none yet."""
    _check_pooling(model_path)
    onnx_file = _cache_file(model_path, os.path.expanduser(cache_dir))
    if not os.path.exists(onnx_file):
        _export(model_path, onnx_file)
    return onnx_file


class _Session:
    """Tokenizer + ONNX Runtime session; called from one thread only (the tokenizer is not
    thread-safe)."""

    def __init__(self, model_path: str, onnx_file: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(os.path.join(model_path, "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_tokens(model_path))
        self._tokenizer.no_padding()  # each batch is padded to its own longest text (run)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one thread per session (OnnxProvider)
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(onnx_file, options,
                                                     providers=["CPUExecutionProvider"])

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]

    def run(self, batch: list[list[int]]) -> list[list[float]]:
        """One padded batch through the model, mean-pooled over the real tokens, normalised."""
        ids = np.zeros((len(batch), max(map(len, batch))), dtype=np.int64)  # [PAD] is 0
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})
        weights = mask[..., None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        vectors: list[list[float]] = (mean / np.clip(norms, 1e-12, None)).tolist()
        return vectors


def length_batches(lengths: list[int], size: int, max_padding: float) -> list[list[int]]:
    """The indexes of `lengths` (token counts) in batches of at most `size`, shortest texts
    first, a batch ending early where padding it to its next text would make more than
    `max_padding` of its tokens padding. Fixed runs of `size` mixed a document's short last
    chunk with full ones: on the benchmark's sync 18-57% of the tokens a call fed the model
    were padding, against 9% for the same chunks embedded all at once."""
    batches: list[list[int]] = []
    batch: list[int] = []
    real = 0
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        length = lengths[index]
        padded = (len(batch) + 1) * length  # sorted: this text is the batch's longest
        if batch and (len(batch) == size or padded - real - length > max_padding * padded):
            batches.append(batch)
            batch, real = [], 0
        batch.append(index)
        real += length
    if batch:
        batches.append(batch)
    return batches


def _lower_priority(nice: int) -> None:
    """Run this (embedding) thread at `nice` more niceness than its process: Linux applies
    setpriority to a single thread given its id (elsewhere the id would not name a thread, so
    nothing is changed), and anyone may lower their own priority."""
    if nice > 0 and sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       os.getpriority(os.PRIO_PROCESS, 0) + nice)


class OnnxProvider:
    """Same name and vectors as the torch LocalProvider of the same model (checked at load),
    so chunks and queries embedded by either match. A call's texts are embedded in batches of
    at most `batch_size` texts of similar token counts (length_batches): little padding.

    `threads` sessions of one thread each, every call's texts shared out among them, rather
    than one session of `threads` threads: the threads of one session meet at every operator,
    so when the rest of a sync takes a core from one of them the other waits. Alone both reach
    ~73 chunks/s here; during a sync the split sessions spent 14 CPU-seconds on the benchmark's
    473 chunks where one two-thread session spent 16, and the sync ran ~5% faster.

    `nice`: added to the sessions' threads' niceness (documents': the model always has work
    queued, so what feeds it should go first; a query's provider keeps normal priority)."""

    def __init__(self, sessions: list[_Session], name: str, dimensions: int,
                 batch_size: int = 32, nice: int = 0) -> None:
        self._sessions = sessions
        self._name = name
        self._dimensions = dimensions
        self._batch_size = batch_size
        self._threads = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-onnx",
                                            initializer=_lower_priority, initargs=(nice,))
                         for _ in sessions]

    @classmethod
    async def load(cls, model_path: str, cache_dir: str, threads: int,
                   reference: EmbeddingProvider, batch_size: int = 32,
                   nice: int = 0) -> "OnnxProvider":
        """Exports the model if its cache file is missing, then proves it against
        `reference` (the torch provider of the same model); OnnxMismatch if they differ."""
        onnx_file = await asyncio.to_thread(prepare, model_path, cache_dir)
        sessions = [await asyncio.to_thread(_Session, model_path, onnx_file)
                    for _ in range(threads or os.cpu_count() or 1)]
        provider = cls(sessions, reference.name, reference.dimensions, batch_size, nice)
        ours = np.array(await provider.embed(PROBES))
        theirs = np.array(await reference.embed(PROBES))
        agreement = float((ours * theirs).sum(axis=1).min())
        if agreement < AGREEMENT:
            await provider.close()
            raise OnnxMismatch(f"cosine {agreement:.6f} with the torch model's embeddings")
        return provider

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _embed_batches(self, session: _Session, texts: list[str]) -> list[list[float]]:
        tokens = session.tokenize(texts)
        vectors: list[list[float]] = [[] for _ in texts]
        for batch in length_batches([len(t) for t in tokens], self._batch_size, MAX_PADDING):
            for index, vector in zip(batch, session.run([tokens[i] for i in batch]),
                                     strict=True):
                vectors[index] = vector
        return vectors

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        count = len(self._sessions)
        shares = [order[start::count] for start in range(count)]  # alike in length and size
        loop = asyncio.get_running_loop()
        try:
            results = await asyncio.gather(*(
                loop.run_in_executor(thread, self._embed_batches, session,
                                     [texts[i] for i in share])
                for session, thread, share in zip(self._sessions, self._threads, shares,
                                                  strict=True) if share))
        except Exception as exc:
            raise EmbeddingError(f"{type(exc).__name__}: {exc}") from exc
        vectors: list[list[float]] = [[] for _ in texts]
        for share, embedded in zip([share for share in shares if share], results, strict=True):
            for index, vector in zip(share, embedded, strict=True):
                vectors[index] = vector
        return vectors

    async def close(self) -> None:
        for thread in self._threads:
            thread.shutdown(wait=False)

