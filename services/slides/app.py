"""Wires the slides service: process pool, renderers, cache, session log, batch events, and the
worker runtime that consumes `slides.items`."""

import asyncio
import contextlib
import os
from concurrent.futures import ProcessPoolExecutor

import httpx

from libs.db.engine import create_engine
from libs.lifetime import process_pool
from libs.logging import get_logger
from libs.messaging.connection import connect
from libs.storage import Storage
from libs.tasks.kinds import SLIDES
from libs.worker.runtime import Worker
from proto.slides import SLIDE_SIZES, RendererName, SlideType
from services.slides.batches import BatchJournal
from services.slides.cache import SlideCache
from services.slides.drawing.slide import warm_up
from services.slides.handler import SlideHandler
from services.slides.journal import SlideJournal
from services.slides.renderers.base import Renderer
from services.slides.renderers.image_api import ImageApiRenderer
from services.slides.renderers.limiter import SharedLimiter
from services.slides.renderers.local import LocalRenderer
from services.slides.settings import SlidesSettings

log = get_logger(__name__)


async def _start_pool(processes: int) -> ProcessPoolExecutor:
    pool = process_pool(processes)  # spawn; its processes die with this one, however it ends
    loop = asyncio.get_running_loop()
    # Start every process and load the fonts now: a missing CJK font fails start-up, loudly.
    fonts = await asyncio.gather(*(loop.run_in_executor(pool, warm_up) for _ in range(processes)))
    log.info("slides.pool_ready", processes=processes, font=fonts[0])
    return pool


async def run(settings: SlidesSettings, stopping: asyncio.Event) -> None:
    db = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    storage = Storage(settings)
    pool = await _start_pool(settings.render_processes or os.cpu_count() or 1)
    renderers: dict[RendererName, Renderer] = {
        RendererName.LOCAL: LocalRenderer(pool, font_regular=settings.font_regular,
                                          font_bold=settings.font_bold),
    }
    http: httpx.AsyncClient | None = None
    limiter_db = None
    if settings.image_api_base_url:
        slots = settings.image_api_concurrency
        # One connection per held slot, plus room for instances polling for a free one.
        limiter_db = create_engine(settings.database_url, pool_size=slots + 2)
        http = httpx.AsyncClient(trust_env=False)
        renderers[RendererName.IMAGE_API] = ImageApiRenderer(
            http, SharedLimiter(limiter_db, f"image-api:{settings.image_api_base_url}", slots),
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
        settings, "slides", {SLIDES.name: handler}, concurrency=settings.concurrency,
        prefetch=settings.prefetch,
        capabilities={"renderers": sorted(renderers),
                      "aspect_ratios": [ratio.value for ratio in SLIDE_SIZES],
                      "slide_types": [kind.value for kind in SlideType],
                      "default_renderer": settings.default_renderer.value},
    )
    events = await connect(settings.amqp_url, name=settings.instance("slides") + ":events")
    await BatchJournal(db, journal).start(events)
    sweeping = asyncio.create_task(cache.sweep_forever(settings.cache_sweep_interval_s),
                                   name="slides-cache-sweep")
    try:
        await worker.run(stopping)
    finally:
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await events.close()
        if http is not None:
            await http.aclose()
        pool.shutdown(cancel_futures=True)
        if limiter_db is not None:
            await limiter_db.dispose()
        await db.dispose()
