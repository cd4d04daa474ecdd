"""The external renderer: an OpenAI-compatible `POST {base}/images/generations`.

Retries live here and only here: 429 and 5xx (and dropped connections) are retried with
exponential backoff and jitter, honouring `Retry-After`, within the slide's time budget. What
is still failing after that is a `Permanent` item failure — the engine retrying it again would
multiply the load on a provider that is already refusing us."""

import asyncio
import base64
import random
import time
from concurrent.futures import Executor
from typing import Any

import httpx

from libs.errors import Permanent
from libs.limiter import SharedLimiter
from libs.observability import metrics
from proto.slides import RendererName
from services.slides.drawing.slide import fit_png
from services.slides.renderers.base import Note, RenderedImage, RenderJob

MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_RETRY_AFTER_S = 30.0


class ImageApiError(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def provider_size(width: int, height: int) -> str:
    """The nearest size image APIs accept; the result is cropped to the slide afterwards."""
    if width > height:
        return "1536x1024"
    if height > width:
        return "1024x1536"
    return "1024x1024"


class ImageApiRenderer:
    name = RendererName.IMAGE_API

    def __init__(
        self, client: httpx.AsyncClient, limiter: SharedLimiter, pool: Executor, *,
        base_url: str, api_key: str, model: str, response_format: str, timeout_s: float,
        max_attempts: int, backoff_base_s: float,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self._pool = pool
        self._url = base_url.rstrip("/") + "/images/generations"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model
        self._response_format = response_format
        self._timeout_s = timeout_s
        self._max_attempts = max(1, max_attempts)
        self._backoff_base_s = backoff_base_s

    def cache_identity(self, job: RenderJob) -> dict[str, Any]:
        return {"renderer": f"image_api:{self._url}:{self._model}", "prompt": job.final_prompt,
                "size": [job.width, job.height]}

    def _body(self, job: RenderJob) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._model, "prompt": job.final_prompt, "n": 1,
                                "size": provider_size(job.width, job.height)}
        if self._response_format:
            body["response_format"] = self._response_format
        return body

    async def render(self, job: RenderJob, note: Note) -> RenderedImage:
        deadline = time.monotonic() + self._timeout_s
        last: ImageApiError | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                for attempt in range(1, self._max_attempts + 1):
                    called = time.monotonic()
                    try:
                        data = await self._attempt(job, deadline)
                    except ImageApiError as exc:
                        last = exc
                        await note("image_api_call", level="warning", attempt=attempt,
                                   status=exc.status, error=str(exc),
                                   duration_s=round(time.monotonic() - called, 3))
                        if exc.status is not None and exc.status < 500 and exc.status != 429:
                            raise Permanent(f"image API refused the slide: {exc}") from exc
                        if attempt == self._max_attempts:
                            break
                        wait = self._backoff(attempt, exc)
                        await note("slide_retry", level="warning", attempt=attempt,
                                   status=exc.status, error=str(exc), wait_s=round(wait, 2))
                        await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
                        continue
                    await note("image_api_call", attempt=attempt, status=200, bytes=len(data),
                               duration_s=round(time.monotonic() - called, 3))
                    return RenderedImage(await self._fit(data, job))
        except TimeoutError:
            raise Permanent(f"image API gave no image within {self._timeout_s:g}s"
                            + (f" (last error: {last})" if last else "")) from None
        raise Permanent(f"image API still failing after {self._max_attempts} attempts: {last}")

    async def _fit(self, data: bytes, job: RenderJob) -> bytes:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fit_png, data, job.width, job.height)
        except (OSError, ValueError) as exc:  # Pillow: not an image it can read
            raise Permanent(f"image API returned no readable image: {exc}") from exc

    def _backoff(self, attempt: int, error: ImageApiError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER_S)
        return self._backoff_base_s * 2.0 ** (attempt - 1) * (0.5 + random.random())

    async def _attempt(self, job: RenderJob, deadline: float) -> bytes:
        async with self._limiter.slot():
            try:
                response = await self._client.post(
                    self._url, json=self._body(job), headers=self._headers,
                    timeout=max(0.1, deadline - time.monotonic()))
            except httpx.TransportError as exc:
                metrics.SLIDES_PROVIDER_CALLS.labels("error").inc()
                raise ImageApiError(None, f"{type(exc).__name__}: {exc}") from exc
        metrics.SLIDES_PROVIDER_CALLS.labels(str(response.status_code)).inc()
        if response.status_code == 429:
            metrics.SLIDES_PROVIDER_RATE_LIMITED.inc()
            self._limiter.throttled()
        if response.status_code != 200:
            raise ImageApiError(response.status_code,
                                f"HTTP {response.status_code}: {response.text[:300]}",
                                _retry_after(response))
        self._limiter.succeeded()
        return await self._image_bytes(response.json(), deadline)

    async def _image_bytes(self, body: Any, deadline: float) -> bytes:
        try:
            first = body["data"][0]
        except (KeyError, IndexError, TypeError) as exc:
            raise ImageApiError(None, "response has no data[0]") from exc
        if first.get("b64_json"):
            data = base64.b64decode(first["b64_json"])
        elif first.get("url"):
            response = await self._client.get(first["url"],
                                              timeout=max(0.1, deadline - time.monotonic()))
            if response.status_code != 200:
                raise ImageApiError(response.status_code, "could not download the image")
            data = response.content
        else:
            raise ImageApiError(None, "data[0] has neither b64_json nor url")
        if len(data) > MAX_IMAGE_BYTES:
            raise Permanent(f"image larger than {MAX_IMAGE_BYTES} bytes")
        return data


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
