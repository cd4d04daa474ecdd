"""One slide: decode, reuse a cached image or render one, store it under the task's prefix with
a deterministic key (a redelivered slide overwrites the same object), log, report."""

import time
from collections.abc import Mapping
from typing import Any

import msgspec

from libs.errors import Permanent
from libs.storage import Storage, task_prefix
from libs.worker.handler import ItemContext, ItemDone
from proto.slides import SLIDE_SIZES, RendererName, SlideBatchParams, SlidePayload, SlideResult
from services.slides.cache import SlideCache, cache_key
from services.slides.journal import SlideJournal
from services.slides.prompt import final_prompt
from services.slides.renderers.base import Note, Renderer, RenderJob


def slide_object_key(task_id: str, seq: int) -> str:
    return f"{task_prefix(task_id)}slides/{seq:04d}.png"


def _decode(ctx: ItemContext) -> tuple[SlidePayload, SlideBatchParams]:
    """The slide and its batch's options, decoded by the worker runtime (proto/contracts.py)."""
    payload, params = ctx.payload, ctx.params
    assert isinstance(payload, SlidePayload) and isinstance(params, SlideBatchParams)
    return payload, params


class SlideHandler:
    def __init__(self, renderers: Mapping[RendererName, Renderer], default: RendererName,
                 storage: Storage, cache: SlideCache, journal: SlideJournal) -> None:
        self._renderers = dict(renderers)
        self._default = default
        self._storage = storage
        self._cache = cache
        self._journal = journal

    def _renderer(self, name: RendererName | None) -> Renderer:
        renderer = self._renderers.get(name or self._default)
        if renderer is None:
            raise Permanent(f"renderer {name} is not configured on this slides service "
                            f"(available: {sorted(self._renderers)})")
        return renderer

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        slide, options = _decode(ctx)
        renderer = self._renderer(options.renderer)
        width, height = SLIDE_SIZES[options.aspect_ratio]
        job = RenderJob(slide=slide, style_prompt=options.style_prompt,
                        aspect_ratio=options.aspect_ratio, width=width, height=height,
                        final_prompt=final_prompt(slide, options.style_prompt,
                                                  options.aspect_ratio))

        async def note(event: str, level: str = "info", **details: Any) -> None:
            await self._journal.write(
                session_id=options.session_id, task_id=ctx.task_id, event=event, level=level,
                seq=ctx.item.seq, attempt=ctx.item.attempt,
                details={"slide_id": slide.slide_id, "page_num": slide.page_num, **details})

        await note("slide_started", renderer=renderer.name.value, type=slide.type.value)
        started = time.perf_counter()
        try:
            result = await self._produce(ctx, job, renderer, started, note)
        except Exception as exc:
            await note("slide_failed", level="error", error=str(exc) or type(exc).__name__,
                       retryable=not isinstance(exc, Permanent),
                       generation_time=round(time.perf_counter() - started, 3))
            raise
        await note("slide_completed", generation_time=result.generation_time,
                   cached=result.cached, bytes=result.bytes)
        return ItemDone(result=msgspec.to_builtins(result),
                        usage={"slides": 1, "cached_slides": int(result.cached),
                               "image_bytes": result.bytes})

    async def _produce(self, ctx: ItemContext, job: RenderJob, renderer: Renderer,
                       started: float, note: Note) -> SlideResult:
        target = slide_object_key(ctx.task_id, ctx.item.seq)
        key = cache_key(ctx.tenant_id, renderer.cache_identity(job))
        entry = await self._cache.copy_to(key, target)
        if entry is not None:
            size, content_type = entry.bytes, entry.content_type
        else:
            image = await renderer.render(job, note)
            await self._storage.put_bytes(target, image.data, image.content_type)
            await self._cache.store(key, tenant_id=ctx.tenant_id, renderer=renderer.name.value,
                                    data=image.data, content_type=image.content_type,
                                    width=job.width, height=job.height)
            size, content_type = len(image.data), image.content_type
        return SlideResult(
            slide_id=job.slide.slide_id, page_num=job.slide.page_num, title=job.slide.title,
            object_key=target, final_prompt=job.final_prompt, renderer=renderer.name,
            cached=entry is not None, generation_time=round(time.perf_counter() - started, 3),
            width=job.width, height=job.height, bytes=size, content_type=content_type,
        )
