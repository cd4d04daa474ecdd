"""The slide-image use cases: create a batch (a task of kind `slides`, one item per slide)
and wait for it, read it, retry its failed slides, count the active ones, and read a
session's log lines. The only place this area opens database connections.

Waiting is woken by the batch's own events through the gateway's EventHub, with a database
re-check every few seconds in case an event was lost (events are notifications; the database
is the truth)."""

import asyncio
import contextlib
import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.tasks import creation, readers
from libs.tasks.kinds import SLIDES
from libs.tasks.model import Item, Task
from proto.slides import RendererName, SlideBatchParams, SlidePayload
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, batch_not_found, validation_error
from services.gateway.slides import repository as repo
from services.gateway.slides.dto import BatchGenerateRequest, SlideSpec
from services.gateway.stream.hub import EventHub, Subscriber
from services.gateway.stream.presenters import TERMINAL_TYPES
from services.gateway.tasks.service import TaskService

RETRYABLE_SLIDES = ("failed", "cancelled")  # resume from where the batch broke off
RECHECK_S = 2.0  # the original client's status interval


def _payloads(slides: list[SlideSpec]) -> list[creation.NewItem]:
    seen: set[str] = set()
    items = []
    for index, slide in enumerate(slides):
        if slide.id in seen:
            raise validation_error(f"slides[{index}].id", f"duplicate slide id {slide.id!r}")
        seen.add(slide.id)
        if not (slide.title.strip() or slide.content_text.strip()):
            raise validation_error(f"slides[{index}].title",
                                   "a slide needs a title or content_text")
        payload = SlidePayload(slide_id=slide.id, page_num=slide.page_num or index + 1,
                               type=slide.type, title=slide.title,
                               content_text=slide.content_text, visual_desc=slide.visual_desc)
        items.append(creation.NewItem(msgspec.to_builtins(payload)))
    return items


async def _next_terminal(subscriber: Subscriber) -> None:
    while (await subscriber.queue.get())["type"] not in TERMINAL_TYPES:
        pass


class SlideService:
    def __init__(self, db: AsyncEngine, task_service: TaskService, hub: EventHub) -> None:
        self._db = db
        self._tasks = task_service
        self._hub = hub

    async def create(self, principal: Principal, request: BatchGenerateRequest) -> Task:
        if request.renderer is not None:
            await self._check_renderer(request.renderer)
        params = SlideBatchParams(
            session_id=request.session_id or uuid.uuid4().hex,
            style_prompt=request.style_prompt, aspect_ratio=request.aspect_ratio,
            renderer=request.renderer)
        return await self._tasks.create(creation.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=SLIDES,
            name=f"slides x{len(request.slides)}", items=_payloads(request.slides),
            params=msgspec.to_builtins(params), concurrency=request.max_workers,
            autostart=True,
        ))

    async def _check_renderer(self, renderer: RendererName) -> None:
        async with self._db.connect() as conn:
            online = await repo.online_renderers(conn)
        if online is not None and renderer.value not in online:
            raise ApiError(400, "RENDERER_UNAVAILABLE",
                           f"renderer: {renderer.value} is not configured on any running slides "
                           f"service (available: {sorted(online)})",
                           [{"field": "renderer", "message": f"one of {sorted(online)}"}])

    async def batch(self, principal: Principal, batch_id: str, *,
                    seq: int | None = None) -> tuple[Task, list[Item]]:
        """The batch and its slides (or the one slide `seq`), with their specs."""
        async with self._db.connect() as conn:
            task = await TaskService.load(conn, principal, batch_id, kind=SLIDES.name,
                                          not_found=batch_not_found)
            return task, await readers.get_items(conn, task.id, seq=seq, with_payload=True)

    async def retry(self, principal: Principal, batch_id: str) -> Task:
        """A new batch of the slides that failed or never ran, linked to the original and in
        its session; slides already done are not redone."""
        async with self._db.connect() as conn:
            original = await TaskService.load(conn, principal, batch_id, kind=SLIDES.name,
                                              not_found=batch_not_found)
            if not original.status.finished:
                raise ApiError(400, "BATCH_NOT_FINISHED",
                               f"batch {batch_id} is {original.status}; retry it once it ends")
            slides = await readers.get_items(conn, original.id, statuses=RETRYABLE_SLIDES,
                                             with_payload=True)
        if not slides:
            raise ApiError(400, "NO_FAILED_SLIDES", f"batch {batch_id} has no failed slides")
        return await self._tasks.create(creation.NewTask(
            tenant_id=original.tenant_id, user_id=principal.user_id, kind=SLIDES,
            name=f"{original.name} (retry)", params=original.params,
            items=[creation.NewItem(slide.payload or {}) for slide in slides],
            concurrency=original.concurrency, autostart=True, parent_task_id=original.id,
        ))

    async def wait(self, principal: Principal, batch_id: str, timeout_s: float) -> None:
        """Return once the batch ended, or when `timeout_s` ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        subscriber = Subscriber(principal)
        subscriber.task_ids.add(batch_id)
        self._hub.add(subscriber)  # before the first read: an end between the two is not missed
        try:
            while True:
                task = await self._tasks.get(principal, batch_id)
                remaining = deadline - loop.time()
                if task.status.finished or remaining <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_next_terminal(subscriber),
                                           min(RECHECK_S, remaining))
        finally:
            self._hub.remove(subscriber)

    async def active_count(self, principal: Principal) -> int:
        async with self._db.connect() as conn:
            return await repo.active_batches(conn, principal)

    async def session_log(self, principal: Principal, session_id: str, *,
                          batch_id: str | None, after_id: int,
                          limit: int) -> list[repo.LogLine]:
        async with self._db.connect() as conn:
            lines = await repo.session_log(conn, principal, session_id, batch_id=batch_id,
                                           after_id=after_id, limit=limit)
        if not lines and after_id == 0:
            raise ApiError(404, "SESSION_NOT_FOUND", f"no log lines for session {session_id}")
        return lines
