"""The generic task API, for tasks of every kind, in seed 002's conventions; `/api/v1/generate`
keeps seed 002's own paths working for its polling clients."""

from typing import Annotated, Any

from litestar import Controller, Router, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.tasks import store
from libs.tasks.kinds import KINDS
from libs.tasks.model import TaskStatus
from services.gateway.auth.repository import Principal
from services.gateway.errors import validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.tasks.commands import TaskCommands
from services.gateway.tasks.dto import CreateTaskBody
from services.gateway.tasks.presenters import item_view, ok, page, task_status, task_summary
from services.gateway.tasks.schemas import (
    ItemPageResponse,
    MessageResponse,
    RetryCreatedResponse,
    TaskPageResponse,
    TaskStatusResponse,
    TaskSummaryResponse,
)

PageNum = Annotated[int, Parameter(query="pageNum", ge=1, le=1_000_000)]
PageSize = Annotated[int, Parameter(query="pageSize", ge=1, le=100)]
StatusFilter = Annotated[TaskStatus | None, Parameter(query="status")]


async def _status(db: AsyncEngine, commands: TaskCommands, principal: Principal,
                  task_id: str) -> dict[str, Any]:
    async with db.connect() as conn:
        task = await commands.load(conn, principal, task_id)
        stages = await store.get_stages(conn, task.id)
    return ok(task_status(task, stages))


async def _list(db: AsyncEngine, principal: Principal, page_num: int, page_size: int,
                status: TaskStatus | None, kind: str | None) -> dict[str, Any]:
    async with db.connect() as conn:
        total, tasks = await store.list_tasks(
            conn, tenant_id=principal.tenant_id, user_id=principal.owner_filter,
            status=status.value if status else None, kind=kind,
            offset=(page_num - 1) * page_size, limit=page_size,
        )
    return ok(page(total, page_num, page_size, "tasks", [task_summary(t) for t in tasks]))


class TaskController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]

    @post("/", status_code=200, summary="Create a task of a generic kind (e.g. echo)",
          responses=documented(TaskStatusResponse),
          opt=IDEMPOTENT_CREATE)
    async def create(self, data: CreateTaskBody, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        spec = KINDS.get(data.kind)
        if spec is None or not spec.generic_create:
            generic = sorted(k for k, s in KINDS.items() if s.generic_create)
            raise validation_error("kind", f"unknown or not creatable here; one of {generic}")
        if len(data.items) > spec.max_items:
            raise validation_error("items", f"at most {spec.max_items} items per {spec.name} task")
        if data.concurrency and data.concurrency > spec.max_concurrency:
            raise validation_error("concurrency", f"at most {spec.max_concurrency}")
        task = await commands.create(store.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=spec,
            name=data.name or f"{spec.name} x{len(data.items)}",
            items=[store.NewItem(payload) for payload in data.items],
            concurrency=data.concurrency, max_attempts=data.max_attempts,
            continue_on_error=data.continue_on_error, autostart=data.auto_start,
            item_timeout_s=data.item_timeout_seconds, task_timeout_s=data.timeout_seconds,
            finalize=data.finalize, params=data.params,
            stages=(*spec.stages, ("finalize", "Finalizing")) if data.finalize else None,
        ))
        return ok(task_status(task, []))

    @get("/", summary="List the caller's tasks, newest first",
         responses=documented(TaskPageResponse))
    async def list_tasks(self, db: AsyncEngine, principal: Principal,
                         page_num: PageNum = 1, page_size: PageSize = 10,
                         status: StatusFilter = None,
                         kind: Annotated[str | None, Parameter(max_length=64)] = None,
                         ) -> dict[str, Any]:
        return await _list(db, principal, page_num, page_size, status, kind)

    @get("/{task_id:str}", summary="Task status with stages and usage",
         responses=documented(TaskStatusResponse, errors=(404,)))
    async def status(self, task_id: str, db: AsyncEngine, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        return await _status(db, commands, principal, task_id)

    @get("/{task_id:str}/items", summary="Per-item status, results and errors",
         responses=documented(ItemPageResponse, errors=(404,)))
    async def items(self, task_id: str, db: AsyncEngine, principal: Principal,
                    commands: TaskCommands, page_num: PageNum = 1,
                    page_size: Annotated[int, Parameter(query="pageSize", ge=1, le=1000)] = 100,
                    status: Annotated[str | None, Parameter(max_length=32)] = None,
                    ) -> dict[str, Any]:
        async with db.connect() as conn:
            task = await commands.load(conn, principal, task_id)
            items = await store.get_items(conn, task.id, status=status,
                                          offset=(page_num - 1) * page_size, limit=page_size)
        return ok(page(task.total, page_num, page_size, "items", [item_view(i) for i in items]))

    @post("/{task_id:str}/start", status_code=200,
          summary="Start a task created with autoStart false",
          responses=documented(TaskSummaryResponse, errors=(404,)))
    async def start(self, task_id: str, principal: Principal,
                    commands: TaskCommands) -> dict[str, Any]:
        return ok(task_summary(await commands.start(principal, task_id)))

    @post("/{task_id:str}/pause", status_code=200,
          summary="Pause: once answered, no item of the task starts until it is resumed",
          responses=documented(TaskSummaryResponse, errors=(404,)))
    async def pause(self, task_id: str, principal: Principal,
                    commands: TaskCommands) -> dict[str, Any]:
        return ok(task_summary(await commands.pause(principal, task_id)))

    @post("/{task_id:str}/resume", status_code=200, summary="Resume a paused task",
          responses=documented(TaskSummaryResponse, errors=(404,)))
    async def resume(self, task_id: str, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        return ok(task_summary(await commands.resume(principal, task_id)))

    @post("/{task_id:str}/cancel", status_code=200,
          summary="Cancel: unfinished items are cancelled, finished ones stay",
          responses=documented(TaskSummaryResponse, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        return ok(task_summary(await commands.cancel(principal, task_id)), "任务已取消")

    @post("/{task_id:str}/retry-failed", status_code=200,
          summary="A new task for the failed items only, linked to this one",
          responses=documented(RetryCreatedResponse, errors=(404,)),
          opt=IDEMPOTENT_CREATE)
    async def retry_failed(self, task_id: str, principal: Principal,
                           commands: TaskCommands) -> dict[str, Any]:
        task, seqs = await commands.retry_failed(principal, task_id)
        return ok({"newTaskId": task.id, "retryItemCount": len(seqs), "itemSeqs": seqs,
                   "task": task_summary(task)}, "重试任务已创建")


class Seed002Controller(Controller):
    """Seed 002's paths over the same tasks."""

    path = "/api/v1/generate"
    tags = ["tasks"]

    @get("/status/{task_id:str}", summary="Task status (seed 002's path)",
         responses=documented(TaskStatusResponse, errors=(404,)))
    async def status(self, task_id: str, db: AsyncEngine, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        return await _status(db, commands, principal, task_id)

    @post("/cancel/{task_id:str}", status_code=200, summary="Cancel (seed 002's path)",
          responses=documented(MessageResponse, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal,
                     commands: TaskCommands) -> dict[str, Any]:
        await commands.cancel(principal, task_id)
        return ok("任务已取消")

    @get("/tasks", summary="List the caller's tasks (seed 002's path)",
         responses=documented(TaskPageResponse))
    async def list_tasks(self, db: AsyncEngine, principal: Principal, page_num: PageNum = 1,
                         page_size: PageSize = 10, status: StatusFilter = None,
                         ) -> dict[str, Any]:
        return await _list(db, principal, page_num, page_size, status, None)


task_router = Router(path="/", route_handlers=[TaskController, Seed002Controller])
