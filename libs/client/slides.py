"""Slide batches (seed 001)."""

from __future__ import annotations

from typing import Any

from libs.client.models_more import SlideBatch
from libs.client.transport import Transport

MAX_WAIT_S = 600


class Slides:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def generate(self, deck: dict[str, Any], *, wait: bool = False) -> SlideBatch:
        """`deck` is the seed's request body (`slides`, `style_prompt`, `max_workers`, ...).
        Without `wait` the answer comes at once (202) with the batch id."""
        body = {**deck, "wait": wait}
        timeout = float(body.get("max_wait_time", 300)) + 30 if wait else None
        kwargs: dict[str, Any] = {"json": body}
        if timeout:
            kwargs["timeout"] = min(timeout, MAX_WAIT_S + 30)
        return self._t.call("POST", "/api/slide/batch/generate", SlideBatch, **kwargs)

    def status(self, batch_id: str) -> SlideBatch:
        return self._t.call("POST", "/api/slide/batch/status", SlideBatch,
                            json={"batch_id": batch_id})

    def retry_failed(self, batch_id: str, *, wait: bool = False) -> SlideBatch:
        return self._t.call("POST", "/api/slide/batch/retry-failed", SlideBatch,
                            json={"batch_id": batch_id, "wait": wait})

    def image_url(self, batch_id: str, seq: int) -> str:
        return self._t.redirect_target(f"/api/slide/batch/{batch_id}/slides/{seq}/image")
