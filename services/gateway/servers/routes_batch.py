"""`/batch`: check a server, start a batch on it, its status, the list (seed 004), cancel."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.servers.model import ServerType, exclusivity_key
from libs.storage import Storage
from libs.tasks import store
from libs.tasks.kinds import SERVER_BATCH
from libs.tasks.model import Task
from proto.topology import server_route
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.servers.dto import BatchBody, BatchRequest
from services.gateway.servers.paths import shown, tenant_root
from services.gateway.servers.planner import Plan, plan
from services.gateway.servers.presenters import batch_task_view
from services.gateway.servers.schemas import (
    BatchStarted,
    BatchTaskView,
    ServerCheck,
)
from services.gateway.tasks.commands import TaskCommands
from services.gateway.tasks.presenters import iso


def _new_task(principal: Principal, body: BatchRequest, found: Plan) -> store.NewTask:
    server, workflow = found.server, found.workflow
    root = tenant_root(principal.tenant_id)
    files = found.selection.files
    return store.NewTask(
        tenant_id=principal.tenant_id, user_id=principal.user_id, kind=SERVER_BATCH,
        name=f"{workflow.name} on {server.name}: {len(files)} files",
        items=[store.NewItem({"file": shown(f.path), "output": shown(f.output),
                              "input_key": root + f.path, "output_key": root + f.output},
                             shown(f.folder)) for f in files],
        params={"server": server.name, "server_type": server.type.value,
                "workflow": msgspec.to_builtins(workflow),
                "target_folders": [shown(t) for t in found.targets],
                "folder_keywords": body.folder_keywords, "output_root": shown(found.output_root),
                "options": msgspec.to_builtins(body.options)},
        # batch_size files at a time on this server, through its own queue, one task at once.
        concurrency=server.batch_size, route=server_route(server.name),
        exclusivity_key=exclusivity_key(server.name), autostart=True,
        # A remote server gets a batch per request; a local one takes files one by one.
        pack_size=server.batch_size if server.type == ServerType.REMOTE else 1,
    )


async def _load(db: AsyncEngine, commands: TaskCommands, principal: Principal,
                task_id: str) -> Task:
    async with db.connect() as conn:
        task = await commands.load(conn, principal, task_id)
    if task.kind != SERVER_BATCH.name:
        raise ApiError(404, "TASK_NOT_FOUND", f"task {task_id} is not a server batch")
    return task


class BatchController(Controller):
    path = "/batch"
    tags = ["servers"]

    @post("/check-server", status_code=200,
          summary="Can the server run this batch now? (400 when not, 404 unknown)",
          responses=documented(ServerCheck, errors=(404,)))
    async def check_server(self, data: BatchBody, principal: Principal, db: AsyncEngine,
                           storage: Storage) -> dict[str, Any]:
        found = await plan(db, storage, principal, data, unavailable_status=400)
        return {"available": True, "server_name": found.server.name,
                "batch_size": found.server.batch_size, "message": "服务器可用",
                "workflow_name": found.workflow.name,
                "total_files": len(found.selection.files),
                "skipped_files": found.selection.skipped}

    @post("/process", status_code=200, summary="Start a batch on the selected server",
          responses=documented(BatchStarted, errors=(404, 503)),
          opt=IDEMPOTENT_CREATE)
    async def process(self, data: BatchBody, principal: Principal, db: AsyncEngine,
                      storage: Storage, commands: TaskCommands) -> dict[str, Any]:
        found = await plan(db, storage, principal, data, unavailable_status=503)
        try:
            task = await commands.create(_new_task(principal, data, found))
        except store.ExclusivityConflict:
            raise ApiError(503, "SERVER_BUSY",
                           f"server {found.server.name} is busy with another task") from None
        return {"task_id": task.id, "status": task.status.value, "message": "批处理任务已启动",
                "created_at": iso(task.created_at), "server_name": found.server.name,
                "workflow_name": found.workflow.name, "total_files": task.total,
                "batch_size": task.concurrency}

    @get("/tasks/{task_id:str}", summary="A batch task's status",
         responses=documented(BatchTaskView, errors=(404,)))
    async def status(self, task_id: str, principal: Principal, db: AsyncEngine,
                     commands: TaskCommands) -> dict[str, Any]:
        return batch_task_view(await _load(db, commands, principal, task_id))

    @get("/tasks", summary="The caller's batch tasks, newest first",
         responses=documented(list[BatchTaskView]))
    async def list_tasks(
        self, principal: Principal, db: AsyncEngine,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> list[dict[str, Any]]:
        async with db.connect() as conn:
            _, tasks = await store.list_tasks(
                conn, tenant_id=principal.tenant_id, user_id=principal.owner_filter,
                kind=SERVER_BATCH.name, offset=offset, limit=limit)
        return [batch_task_view(task) for task in tasks]

    @post("/tasks/{task_id:str}/cancel", status_code=200, summary="Cancel a batch task",
          responses=documented(BatchTaskView, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal, db: AsyncEngine,
                     commands: TaskCommands) -> dict[str, Any]:
        await _load(db, commands, principal, task_id)
        return batch_task_view(await commands.cancel(principal, task_id))
