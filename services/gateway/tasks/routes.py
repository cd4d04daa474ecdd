"""The generic task API, for tasks of every kind, in seed 002's conventions; `/api/v1/generate`
keeps seed 002's own paths working for its polling clients."""

from typing import Annotated, Any, Literal

from litestar import Controller, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from libs.tasks import creation, fairshare, readers
from libs.tasks.kinds import KINDS
from libs.tasks.model import TaskStatus
from services.gateway.auth.repository import Principal
from services.gateway.errors import validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.tasks.dto import CreateTaskBody, CreateTaskRequest
from services.gateway.tasks.presenters import (
    item_view,
    ok,
    page,
    task_status,
    task_summary,
    timeline,
)
from services.gateway.tasks.schemas import (
    ItemPageResponse,
    RetryCreatedResponse,
    TaskPageResponse,
    TaskStatusResponse,
    TaskSummaryResponse,
    TimelineResponse,
)
from services.gateway.tasks.service import TaskService

PageNum = Annotated[int, Parameter(query="pageNum", ge=1, le=1_000_000)]
PageSize = Annotated[int, Parameter(query="pageSize", ge=1, le=100)]
StatusFilter = Annotated[TaskStatus | None, Parameter(query="status")]


async def _status(task_service: TaskService, principal: Principal,
                  task_id: str) -> dict[str, Any]:
    task, stages = await task_service.status(principal, task_id)
    return ok(task_status(task, stages, await task_service.queue_position(task)))


async def _list(task_service: TaskService, principal: Principal, page_num: int, page_size: int,
                status: TaskStatus | None, kind: str | None) -> dict[str, Any]:
    where = readers.TaskFilter(tenant_id=principal.tenant_id, user_id=principal.owner_filter,
                               statuses=(status.value,) if status else None, kind=kind)
    total, tasks = await task_service.page(where, offset=(page_num - 1) * page_size,
                                           limit=page_size)
    return ok(page(total, page_num, page_size, "tasks", [task_summary(t) for t in tasks]))


def _new_task(principal: Principal, data: CreateTaskRequest) -> creation.NewTask:
    spec = KINDS.get(data.kind)
    if spec is None or not spec.generic_create:
        generic = sorted(k for k, s in KINDS.items() if s.generic_create)
        raise validation_error("kind", f"unknown or not creatable here; one of {generic}")
    if len(data.items) > spec.max_items:
        raise validation_error("items", f"at most {spec.max_items} items per {spec.name} task")
    if data.concurrency and data.concurrency > spec.max_concurrency:
        raise validation_error("concurrency", f"at most {spec.max_concurrency}")
    return creation.NewTask(
        tenant_id=principal.tenant_id, user_id=principal.user_id, kind=spec,
        name=data.name or f"{spec.name} x{len(data.items)}",
        items=[creation.NewItem(payload) for payload in data.items],
        concurrency=data.concurrency, max_attempts=data.max_attempts,
        continue_on_error=data.continue_on_error, autostart=data.auto_start,
        item_timeout_s=data.item_timeout_seconds, task_timeout_s=data.timeout_seconds,
        finalize=data.finalize, params=data.params,
        stages=(*spec.stages, ("finalize", "Finalizing")) if data.finalize else None,
        priority=fairshare.PRIORITIES[data.priority],
    )


class TaskController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]

    @post("/", status_code=200, summary="Create a task of a generic kind (e.g. echo)",
          responses=documented(TaskStatusResponse),
          opt=IDEMPOTENT_CREATE)
    async def create(self, data: CreateTaskBody, principal: Principal,
                     task_service: TaskService) -> dict[str, Any]:
        task = await task_service.create(_new_task(principal, data))
        return ok(task_status(task, []))

    @get("/", summary="List the caller's tasks, newest first",
         responses=documented(TaskPageResponse))
    async def list_tasks(self, principal: Principal, task_service: TaskService,
                         page_num: PageNum = 1, page_size: PageSize = 10,
                         status: StatusFilter = None,
                         kind: Annotated[str | None, Parameter(max_length=64)] = None,
                         ) -> dict[str, Any]:
        return await _list(task_service, principal, page_num, page_size, status, kind)

    @get("/{task_id:str}", summary="Task status with stages and usage",
         responses=documented(TaskStatusResponse, errors=(404,)))
    async def status(self, task_id: str, principal: Principal,
                     task_service: TaskService) -> dict[str, Any]:
        return await _status(task_service, principal, task_id)

    @get("/{task_id:str}/timeline", summary="Every status change of the task, oldest first",
         responses=documented(TimelineResponse, errors=(404,)))
    async def transitions(self, task_id: str, principal: Principal,
                          task_service: TaskService) -> dict[str, Any]:
        task, changes = await task_service.transitions(principal, task_id)
        return ok(timeline(task, changes))

    @get("/{task_id:str}/items", summary="Per-item status, results and errors",
         responses=documented(ItemPageResponse, errors=(404,)))
    async def items(self, task_id: str, principal: Principal,
                    task_service: TaskService, page_num: PageNum = 1,
                    page_size: Annotated[int, Parameter(query="pageSize", ge=1, le=1000)] = 100,
                    status: Annotated[str | None, Parameter(max_length=32)] = None,
                    ) -> dict[str, Any]:
        task, items = await task_service.items(
            principal, task_id, statuses=(status,) if status else None,
            offset=(page_num - 1) * page_size, limit=page_size)
        return ok(page(task.total, page_num, page_size, "items", [item_view(i) for i in items]))

    @post("/{task_id:str}/retry-failed", status_code=200,
          summary="A new task for the failed items only, linked to this one",
          responses=documented(RetryCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def retry_failed(self, task_id: str, principal: Principal,
                           task_service: TaskService) -> dict[str, Any]:
        task, seqs = await task_service.retry_failed(principal, task_id)
        return ok({"newTaskId": task.id, "retryItemCount": len(seqs), "itemSeqs": seqs,
                   "task": task_summary(task)}, "重试任务已创建")


def _command(action: Literal["start", "pause", "resume", "cancel"], summary: str,
             message: str | None = None) -> HTTPRouteHandler:
    """`POST /api/v1/tasks/{task_id}/<action>`, answered with the task's summary."""

    async def command(task_id: str, principal: Principal,
                      task_service: TaskService) -> dict[str, Any]:
        task = await getattr(task_service, action)(principal, task_id)
        return ok(task_summary(task), message) if message else ok(task_summary(task))

    command.__name__ = command.__qualname__ = action  # its name in the OpenAPI document
    return post(f"/api/v1/tasks/{{task_id:str}}/{action}", status_code=200, summary=summary,
                tags=["tasks"], responses=documented(TaskSummaryResponse, errors=(404,)))(command)


TASK_COMMANDS = [
    _command("start", "Start a task created with autoStart false"),
    _command("pause", "Pause: once answered, no item of the task starts until it is resumed"),
    _command("resume", "Resume a paused task"),
    _command("cancel", "Cancel: unfinished items are cancelled, finished ones stay", "任务已取消"),
]

# Seed 002's own paths (`/api/v1/generate/...`) are the codegen area's.
TASK_HANDLERS = [TaskController, *TASK_COMMANDS]
