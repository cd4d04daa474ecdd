"""Creating and retrying slide batches: request -> validated task of kind `slides`."""

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.tasks import creation, readers
from libs.tasks.kinds import SLIDES
from libs.tasks.model import Task
from proto.slides import RendererName, SlideBatchParams, SlidePayload
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, validation_error
from services.gateway.slides import repository as repo
from services.gateway.slides.dto import BatchGenerateRequest, SlideSpec
from services.gateway.tasks.commands import TaskCommands

RETRYABLE_SLIDES = ("failed", "cancelled")  # resume from where the batch broke off


def batch_not_found(batch_id: str) -> ApiError:
    return ApiError(404, "BATCH_NOT_FOUND", f"batch {batch_id} does not exist")


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


class SlideBatches:
    def __init__(self, db: AsyncEngine, commands: TaskCommands) -> None:
        self._db = db
        self._commands = commands

    async def create(self, principal: Principal, request: BatchGenerateRequest) -> Task:
        if request.renderer is not None:
            await self._check_renderer(request.renderer)
        params = SlideBatchParams(
            session_id=request.session_id or uuid.uuid4().hex,
            style_prompt=request.style_prompt, aspect_ratio=request.aspect_ratio,
            renderer=request.renderer)
        return await self._commands.create(creation.NewTask(
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

    async def load(self, conn: AsyncConnection, principal: Principal, batch_id: str) -> Task:
        task = await readers.get_task(conn, batch_id, tenant_id=principal.tenant_id,
                                      user_id=principal.owner_filter)
        if task is None or task.kind != SLIDES.name:
            raise batch_not_found(batch_id)
        return task

    async def retry(self, principal: Principal, batch_id: str) -> Task:
        """A new batch of the slides that failed or never ran, linked to the original and in
        its session; slides already done are not redone."""
        async with self._db.connect() as conn:
            original = await self.load(conn, principal, batch_id)
            if not original.status.finished:
                raise ApiError(400, "BATCH_NOT_FINISHED",
                               f"batch {batch_id} is {original.status}; retry it once it ends")
            slides = await readers.get_items(conn, original.id, statuses=RETRYABLE_SLIDES,
                                             with_payload=True)
        if not slides:
            raise ApiError(400, "NO_FAILED_SLIDES", f"batch {batch_id} has no failed slides")
        return await self._commands.create(creation.NewTask(
            tenant_id=original.tenant_id, user_id=principal.user_id, kind=SLIDES,
            name=f"{original.name} (retry)", params=original.params,
            items=[creation.NewItem(slide.payload or {}) for slide in slides],
            concurrency=original.concurrency, autostart=True, parent_task_id=original.id,
        ))
