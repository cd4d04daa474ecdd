"""Wires the slides service: process pool, renderers, cache, session log, batch events, and the
worker runtime that consumes `slides.items`."""

import asyncio
import os
from functools import partial

import httpx

from libs.lifecycle import Loop, Runtime, Service
from libs.limiter import SharedLimiter
from libs.logging import get_logger
from libs.messaging.parts import QueueConsumer
from libs.sandbox import Limits, SandboxPool
from libs.service import run_service
from libs.settings import load_settings
from libs.tasks.kinds import SLIDES
from libs.worker.runtime import Worker
from proto.events import TaskEvent
from proto.slides import SLIDE_SIZES, RendererName, SlideType
from services.slides.batches import BatchJournal
from services.slides.cache import SlideCache
from services.slides.drawing.slide import warm_up
from services.slides.handler import SlideHandler
from services.slides.journal import SlideJournal
from services.slides.renderers.base import Renderer
from services.slides.renderers.image_api import ImageApiRenderer
from services.slides.renderers.local import LocalRenderer
from services.slides.settings import SlidesSettings

log = get_logger(__name__)


async def _start_pool(processes: int, limits: Limits) -> SandboxPool:
    # Drawing decodes images from an external API and lays out client text: capped like renders.
    # Its processes die with this one, however it ends (libs.lifetime via libs.sandbox).
    pool = SandboxPool(processes, limits, name="slides-draw")
    loop = asyncio.get_running_loop()
    # Start every process and load the fonts now: a missing CJK font fails start-up, loudly.
    fonts = await asyncio.gather(*(loop.run_in_executor(pool, warm_up) for _ in range(processes)))
    log.info("slides.pool_ready", processes=processes, font=fonts[0])
    return pool


def db_pool_size(settings: SlidesSettings) -> int:
    """The image API limiter holds one connection per slot it holds, plus room for polling."""
    extra = settings.image_api_concurrency + 2 if settings.image_api_base_url else 0
    return settings.db_pool_size + extra


async def build(settings: SlidesSettings, runtime: Runtime) -> Service:
    db, storage = runtime.db, runtime.storage
    pool = await _start_pool(settings.render_processes or os.cpu_count() or 1, Limits(
        memory_bytes=settings.render_memory_mb * 2**20, cpu_s=settings.render_cpu_s,
        wall_s=settings.render_wall_s, max_output_bytes=settings.render_max_output_mb * 2**20))
    runtime.exits.callback(pool.shutdown, cancel_futures=True)
    renderers: dict[RendererName, Renderer] = {
        RendererName.LOCAL: LocalRenderer(pool, font_regular=settings.font_regular,
                                          font_bold=settings.font_bold),
    }
    if settings.image_api_base_url:
        http = httpx.AsyncClient(trust_env=False)
        runtime.exits.push_async_callback(http.aclose)
        renderers[RendererName.IMAGE_API] = ImageApiRenderer(
            http, SharedLimiter(db, f"image-api:{settings.image_api_base_url}",
                                settings.image_api_concurrency),
            pool, base_url=settings.image_api_base_url, api_key=settings.image_api_key,
            model=settings.image_api_model, response_format=settings.image_api_response_format,
            timeout_s=settings.image_api_timeout_s,
            max_attempts=settings.image_api_max_attempts,
            backoff_base_s=settings.image_api_backoff_base_s,
        )
    journal = SlideJournal(db)
    cache = SlideCache(db, storage, ttl_s=settings.cache_ttl_s)
    handler = SlideHandler(renderers, settings.default_renderer, storage, cache, journal)
    worker = Worker(
        runtime, {SLIDES.name: handler}, concurrency=settings.concurrency,
        prefetch=settings.prefetch,
        capabilities={"renderers": sorted(renderers),
                      "aspect_ratios": [ratio.value for ratio in SLIDE_SIZES],
                      "slide_types": [kind.value for kind in SlideType],
                      "default_renderer": settings.default_renderer.value},
    )
    batches = BatchJournal(db, journal)
    return Service([
        QueueConsumer(runtime.connection, batches.declare, TaskEvent, batches.on_event,
                      prefetch=50),
        Loop("slides-cache-sweep", lambda: cache.sweep_forever(settings.cache_sweep_interval_s)),
        worker,
    ], worker.capabilities)


def main() -> None:
    settings = load_settings(SlidesSettings, "slides")
    run_service("slides", settings, partial(build, settings), db_pool_size=db_pool_size(settings))
