"""The default renderer: draws the slide with Pillow in a process pool (CPU-bound work never
runs on the event loop, and the pool uses every core)."""

import asyncio
from concurrent.futures import Executor
from typing import Any

from proto.slides import RendererName
from services.slides.drawing.slide import DrawJob, draw_png
from services.slides.renderers.base import Note, RenderedImage, RenderJob

# Bump when the drawing changes, so cached images of the old look are not reused.
DRAWING_VERSION = "local-3"


def draw_job(job: RenderJob, *, font_regular: str = "", font_bold: str = "") -> DrawJob:
    """What the pool process draws: plain values only, so it pickles cheaply."""
    slide = job.slide
    return DrawJob(
        type=slide.type.value, page_num=slide.page_num, title=slide.title,
        content_text=slide.content_text, visual_desc=slide.visual_desc,
        style_prompt=job.style_prompt, width=job.width, height=job.height,
        font_regular=font_regular, font_bold=font_bold,
    )


class LocalRenderer:
    name = RendererName.LOCAL

    def __init__(self, pool: Executor, *, font_regular: str = "", font_bold: str = "") -> None:
        self._pool = pool
        self._font_regular = font_regular
        self._font_bold = font_bold

    def cache_identity(self, job: RenderJob) -> dict[str, Any]:
        # The page number is drawn on the slide and seeds its decoration.
        return {"renderer": DRAWING_VERSION, "prompt": job.final_prompt,
                "type": job.slide.type.value, "title": job.slide.title,
                "content": job.slide.content_text, "page": job.slide.page_num,
                "size": [job.width, job.height]}

    async def render(self, job: RenderJob, note: Note) -> RenderedImage:
        loop = asyncio.get_running_loop()
        drawing = draw_job(job, font_regular=self._font_regular, font_bold=self._font_bold)
        return RenderedImage(await loop.run_in_executor(self._pool, draw_png, drawing))
