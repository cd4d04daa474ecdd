"""An OpenAI-compatible embeddings API (`POST {base_url}/embeddings`), for deployments that
embed with a hosted or self-hosted model instead of the local one."""

import math
from typing import Any

import httpx

from services.ingester.embeddings.base import EmbeddingError


class HttpProvider:
    def __init__(self, base_url: str, model: str, *, api_key: str = "", dimensions: int = 384,
                 batch_size: int = 64, timeout_s: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers,
                                         timeout=timeout_s)
        self._model = model
        self._dimensions = dimensions
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return f"http:{self._model}:{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def _call(self, texts: list[str]) -> list[list[float]]:
        body = {"model": self._model, "input": texts, "dimensions": self._dimensions,
                "encoding_format": "float"}
        try:
            response = await self._client.post("/embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"请求失败: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            raise EmbeddingError("限流 (HTTP 429)")
        if response.status_code >= 400:
            raise EmbeddingError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            data: list[dict[str, Any]] = response.json()["data"]
            ordered = sorted(data, key=lambda entry: int(entry["index"]))
            vectors = [[float(x) for x in entry["embedding"]] for entry in ordered]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"无法解析的响应: {exc}") from exc
        if len(vectors) != len(texts) or any(len(v) != self._dimensions for v in vectors):
            raise EmbeddingError(
                f"响应不符: {len(vectors)} 个向量（应为 {len(texts)} 个 {self._dimensions} 维）")
        return [_unit(vector) for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors += await self._call(texts[start : start + self._batch_size])
        return vectors

    async def close(self) -> None:
        await self._client.aclose()


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
