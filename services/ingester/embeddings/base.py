"""The provider interface and the cross-document batcher."""

import asyncio
import time
from typing import Protocol

from libs.observability import metrics


class EmbeddingError(Exception):
    """The provider failed (a rate limit, an outage, a bad answer); retrying may help."""


class EmbeddingProvider(Protocol):
    @property
    def name(self) -> str:
        """Identifies the model; part of every document's index fingerprint, so a change of
        model re-indexes documents instead of mixing two vector spaces."""

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, unit length (cosine similarity = dot product)."""

    async def close(self) -> None: ...


class EmbeddingBatcher:
    """Gathers texts from every document in flight into batches of `batch_size`: many small
    documents then cost as few model calls as one large one."""

    def __init__(self, provider: EmbeddingProvider, batch_size: int,
                 linger_s: float = 0.01) -> None:
        self._provider = provider
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[list[float]]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="embedding-batcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in texts]
        for text, future in zip(texts, futures, strict=True):
            self._queue.put_nowait((text, future))
        return list(await asyncio.gather(*futures))

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(self._linger_s)  # let concurrent documents join this batch
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [(text, future) for text, future in batch if not future.done()]
            if not live:
                continue
            metrics.INGEST_EMBED_BATCH.observe(len(live))
            started = time.perf_counter()
            try:
                vectors = await self._provider.embed([text for text, _ in live])
                metrics.INGEST_EMBED_SECONDS.observe(time.perf_counter() - started)
            except Exception as exc:
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), vector in zip(live, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)
