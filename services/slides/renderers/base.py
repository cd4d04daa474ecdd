"""What every renderer implements, and what it is given."""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from proto.slides import AspectRatio, RendererName, SlidePayload


@dataclass(frozen=True, slots=True)
class RenderJob:
    slide: SlidePayload
    style_prompt: str
    aspect_ratio: AspectRatio
    width: int
    height: int
    final_prompt: str


@dataclass(frozen=True, slots=True)
class RenderedImage:
    data: bytes  # PNG of exactly the job's width x height
    content_type: str = "image/png"


class Note(Protocol):
    """Records a per-slide log line (e.g. a retry) in the batch's session log."""

    def __call__(self, event: str, level: str = "info", **details: Any) -> Awaitable[None]: ...


class Renderer(Protocol):
    name: RendererName

    def cache_identity(self, job: RenderJob) -> dict[str, Any]:
        """Everything the output depends on: two jobs with equal identities give the same image,
        so the second may reuse the first's."""
        ...

    async def render(self, job: RenderJob, note: Note) -> RenderedImage: ...
