"""`/api/v1/generate` (seed 002): create a code generation, and the original status, cancel and
list paths over every task (codegen tasks in the seed's exact shape); a stored AppSpec."""

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import Parameter

from services.gateway.auth.repository import Principal
from services.gateway.codegen.dto import GenerateAsyncBody
from services.gateway.codegen.schemas import (
    AppSpecResponse,
    CodegenPageResponse,
    CodegenStatusResponse,
    CreatedResponse,
    FileResponse,
)
from services.gateway.codegen.service import CodegenService
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.tasks.presenters import ok, page
from services.gateway.tasks.routes import PageNum, PageSize
from services.gateway.tasks.schemas import MessageResponse


class GenerateController(Controller):
    path = "/api/v1/generate"
    tags = ["codegen"]

    @post("/async", status_code=200, summary="Create a code generation; data is the task id",
          responses=documented(CreatedResponse), opt=IDEMPOTENT_CREATE)
    async def create(self, data: GenerateAsyncBody, principal: Principal,
                     codegen_service: CodegenService) -> dict[str, Any]:
        task = await codegen_service.create(principal, data)
        return ok(task.id)

    @get("/status/{task_id:str}", summary="Task status (poll every 2 s)",
         responses=documented(CodegenStatusResponse, errors=(404,)))
    async def status(self, task_id: str, principal: Principal,
                     codegen_service: CodegenService) -> dict[str, Any]:
        return ok(await codegen_service.status(principal, task_id))

    @post("/cancel/{task_id:str}", status_code=200, summary="Cancel a task not finished yet",
          responses=documented(MessageResponse, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal,
                     codegen_service: CodegenService) -> dict[str, Any]:
        await codegen_service.cancel(principal, task_id)
        return ok("任务已取消")

    @get("/tasks", summary="The caller's tasks, newest first, by seed 002's statuses",
         responses=documented(CodegenPageResponse))
    async def list_tasks(self, principal: Principal, codegen_service: CodegenService,
                         page_num: PageNum = 1, page_size: PageSize = 10,
                         status: Annotated[str | None, Parameter(max_length=32)] = None,
                         ) -> dict[str, Any]:
        total, rows = await codegen_service.page(principal, page_num=page_num,
                                                 page_size=page_size, status=status)
        return ok(page(total, page_num, page_size, "tasks", rows))

    @get("/files/{task_id:str}", summary="One file of a completed generation's project",
         responses=documented(FileResponse, errors=(404,)))
    async def file(self, task_id: str, principal: Principal, codegen_service: CodegenService,
                   path: Annotated[str, Parameter(min_length=1, max_length=300)],
                   ) -> dict[str, Any]:
        return ok(await codegen_service.file(principal, task_id, path))

    @get("/app-specs/{spec_id:str}", summary="A stored AppSpec (what the execute agent wrote)",
         responses=documented(AppSpecResponse, errors=(404,)))
    async def app_spec(self, spec_id: str, principal: Principal,
                       codegen_service: CodegenService) -> dict[str, Any]:
        return ok(await codegen_service.app_spec(principal, spec_id))


CODEGEN_HANDLERS = [GenerateController]
