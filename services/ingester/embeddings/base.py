"""The provider interface (services/ingester/pipeline.py batches across documents)."""

from typing import Protocol


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
