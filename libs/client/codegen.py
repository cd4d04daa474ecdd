"""Code generation (seed 002): create, poll (every 2 s, as the seed's frontend), download."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from libs.client.errors import TransportError
from libs.client.transport import Transport

TERMINAL = ("completed", "failed", "cancelled")
POLL_S = 2.0


class Agent(msgspec.Struct, rename="camel"):
    agent_type: str
    status: str
    progress: int = 0
    result_summary: str | None = None
    error_message: str | None = None


class Generation(msgspec.Struct, rename="camel"):
    task_id: str
    status: str
    status_description: str
    progress: int
    current_agent: str | None = None
    agents: list[Agent] = []
    app_spec_id: str | None = None
    quality_score: int | None = None
    download_url: str | None = None
    preview_url: str | None = None
    package_name: str | None = None
    provider: str | None = None
    error_message: str | None = None
    token_usage: dict[str, Any] | None = None
    files: list[str] = []

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class Codegen:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, requirement: str, *, package_name: str | None = None,
               quality_threshold: int | None = None, skip_validation: bool = False,
               preview: bool = False) -> str:
        """The new task's id."""
        body: dict[str, Any] = {"userRequirement": requirement,
                                "skipValidation": skip_validation, "generatePreview": preview}
        if package_name:
            body["packageName"] = package_name
        if quality_threshold is not None:
            body["qualityThreshold"] = quality_threshold
        return self._t.call_data("POST", "/api/v1/generate/async", str, json=body)

    def status(self, task_id: str) -> Generation:
        return self._t.call_data("GET", f"/api/v1/generate/status/{task_id}", Generation)

    def cancel(self, task_id: str) -> str:
        return self._t.call_data("POST", f"/api/v1/generate/cancel/{task_id}", str)

    def wait(self, task_id: str, *, interval_s: float = POLL_S,
             on_poll: Callable[[Generation], None] | None = None) -> Generation:
        while True:
            generation = self.status(task_id)
            if on_poll is not None:
                on_poll(generation)
            if generation.finished:
                return generation
            time.sleep(interval_s)

    def download(self, generation: Generation, dest: Path) -> int:
        """The ZIP of a completed generation into `dest` (written beside it, then renamed)."""
        if not generation.download_url:
            raise TransportError(f"{generation.task_id} has no download ({generation.status})")
        partial = dest.with_name(dest.name + ".part")
        try:
            with httpx.stream("GET", generation.download_url, timeout=60) as response:
                if response.status_code != 200:
                    raise TransportError(f"download of {generation.task_id}: storage answered "
                                         f"{response.status_code}")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
            partial.replace(dest)
        except httpx.HTTPError as exc:
            raise TransportError(f"download of {generation.task_id}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return dest.stat().st_size
