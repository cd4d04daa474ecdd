"""`/api/slide/batch/...` (seed 001) and the slide API's additions: retry the failed slides,
each slide's image (owner-checked redirect to a presigned URL), a session's log lines."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Redirect

from libs.storage import Storage
from services.gateway.auth.repository import Principal
from services.gateway.downloads import redirect_to_stored
from services.gateway.errors import ApiError
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented, redirect_errors
from services.gateway.slides.dto import (
    BatchGenerateBody,
    BatchStatusRequest,
    RetryFailedRequest,
)
from services.gateway.slides.presenters import batch_result, batch_status, log_line
from services.gateway.slides.schemas import (
    ActiveCount,
    SessionLog,
    SlideBatchAccepted,
    SlideBatchStatus,
    SlideBatchView,
)
from services.gateway.slides.service import SlideService
from services.gateway.tasks.service import TaskService

MAX_LOG_LINES = 1000


ACCEPTED = ResponseSpec(SlideBatchAccepted, generate_examples=False,
                        description="Still running (wait false, or the wait ran out)")
# generate and retry-failed answer alike: the batch once it ended, or 202 while it runs.
BATCH_ANSWERS = documented(SlideBatchView, errors=(404, 503), description="The batch ended",
                           also={202: ACCEPTED})


async def _answer(slide_service: SlideService, principal: Principal, batch_id: str, *,
                  wait: bool, max_wait_time: float, extra: dict[str, Any] | None = None,
                  ) -> Response[dict[str, Any]]:
    """The batch in the generate shape: once it ended (200), or as it stands when the wait was
    not asked for or ran out (202, with `status_url` to poll and `events_url` to stream)."""
    if wait:
        await slide_service.wait(principal, batch_id, max_wait_time)
    task, slides = await slide_service.batch(principal, batch_id)
    body = {**batch_result(task, slides), **(extra or {})}
    if task.status.finished:
        return Response(body, status_code=200)
    body.update(status_url="/api/slide/batch/status",
                events_url=f"/api/v1/tasks/{task.id}/events")
    return Response(body, status_code=202)


class SlideBatchController(Controller):
    path = "/api/slide/batch"
    tags = ["slides"]

    @post("/generate", status_code=200, responses=BATCH_ANSWERS,
          summary="Render a batch of slides; waits for it unless wait=false",
          opt=IDEMPOTENT_CREATE)
    async def generate(self, data: BatchGenerateBody, principal: Principal,
                       slide_service: SlideService) -> Response[dict[str, Any]]:
        task = await slide_service.create(principal, data)
        return await _answer(slide_service, principal, task.id, wait=data.wait,
                             max_wait_time=data.max_wait_time)

    @post("/status", status_code=200, summary="Progress, estimate and per-slide results",
          responses=documented(SlideBatchStatus, errors=(404,)))
    async def status(self, data: BatchStatusRequest, principal: Principal,
                     slide_service: SlideService, task_service: TaskService) -> dict[str, Any]:
        task, slides = await slide_service.batch(principal, data.batch_id)
        return batch_status(task, slides, await task_service.queue_position(task))

    @get("/active-count", summary="The caller's batches not finished yet",
         responses=documented(ActiveCount))
    async def active_count(self, principal: Principal,
                           slide_service: SlideService) -> dict[str, int]:
        return {"active_batches": await slide_service.active_count(principal)}

    @post("/retry-failed", status_code=200, responses=BATCH_ANSWERS,
          summary="A new batch of the failed (or never run) slides only",
          opt=IDEMPOTENT_CREATE)
    async def retry_failed(self, data: RetryFailedRequest, principal: Principal,
                           slide_service: SlideService) -> Response[dict[str, Any]]:
        task = await slide_service.retry(principal, data.batch_id)
        return await _answer(slide_service, principal, task.id, wait=data.wait,
                             max_wait_time=data.max_wait_time,
                             extra={"parent_batch_id": data.batch_id})

    @get("/{batch_id:str}/slides/{seq:int}/image", status_code=302,
         summary="The slide's image: a redirect to a short-lived presigned URL",
         responses=redirect_errors(404, 410))
    async def image(self, batch_id: str,
                    seq: Annotated[int, Parameter(ge=0, le=2**31 - 1)],  # a slide's number
                    principal: Principal, storage: Storage,
                    slide_service: SlideService) -> Redirect:
        _, slides = await slide_service.batch(principal, batch_id, seq=seq)
        if not slides or slides[0].status != "done" or not slides[0].result:
            state_text = slides[0].status if slides else "not part of this batch"
            raise ApiError(404, "IMAGE_NOT_FOUND",
                           f"slide {seq} of batch {batch_id} has no image ({state_text})")
        return await redirect_to_stored(
            storage, slides[0].result["object_key"], gone_code="IMAGE_GONE",
            gone_message=f"the image of slide {seq} of batch {batch_id} is no longer stored; "
                         "render it again (a new batch of the same slides)")


@get("/api/slide/sessions/{session_id:str}/logs", tags=["slides"],
     summary="A session's structured log lines (JSON, or JSON lines with format=jsonl)",
     responses=documented(SessionLog, errors=(404,),
                          description="JSON; with format=jsonl one log line object per line"))
async def session_logs(
    session_id: str, principal: Principal, slide_service: SlideService,
    batch_id: Annotated[str | None, Parameter(max_length=64)] = None,
    after_id: Annotated[int, Parameter(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=MAX_LOG_LINES)] = 500,
    output: Annotated[str, Parameter(query="format", pattern="^(json|jsonl)$")] = "json",
) -> Response[Any]:
    lines = await slide_service.session_log(principal, session_id, batch_id=batch_id,
                                            after_id=after_id, limit=limit)
    rendered = [log_line(line, session_id) for line in lines]
    if output == "jsonl":
        body = b"".join(msgspec.json.encode(line) + b"\n" for line in rendered)
        return Response(body, media_type="application/x-ndjson")
    return Response({"session_id": session_id, "lines": rendered,
                     "next_after_id": lines[-1].id if lines else after_id})


SLIDE_HANDLERS = [SlideBatchController, session_logs]
