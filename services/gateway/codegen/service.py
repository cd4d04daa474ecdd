"""The code-generation use cases: create a generation (a task of kind `codegen`, one item, its
four agents as stages), read one or a page in seed 002's shape, cancel by seed 002's table, and
read a stored AppSpec. Tasks of other kinds read through these paths keep the generic shape.
The only place this area opens database connections."""

import io
import uuid
import zipfile
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.storage import Storage
from libs.tasks import creation, readers
from libs.tasks.kinds import CODEGEN
from libs.tasks.model import Stage, Task, TaskStatus
from proto.codegen import (
    AGENTS,
    CANCELLABLE,
    MAX_REQUIREMENT_CHARS,
    RUNNING_STATUS,
    CodegenParams,
    CodegenPayload,
    valid_package,
)
from services.gateway.auth.repository import Principal
from services.gateway.codegen import presenters
from services.gateway.codegen import repository as repo
from services.gateway.codegen.dto import GenerateAsyncRequest
from services.gateway.errors import ApiError
from services.gateway.tasks.presenters import iso
from services.gateway.tasks.service import TaskService

STAGE_OF_STATUS = {status: agent for agent, status in RUNNING_STATUS.items()}
LIST_STATUSES = sorted({*STAGE_OF_STATUS, *(s.value for s in TaskStatus)})
TASK_NAME_CHARS = 12
MAX_ARCHIVE_BYTES = 32 * 2**20  # above the codegen service's cap on a project


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, [{"field": field, "message": message}])


def task_name(requirement: str) -> str:
    """Seed 002 names a task after the start of its requirement: `校园二手交易平台...`."""
    text = " ".join(requirement.split())
    for lead in ("创建一个", "创建", "开发一个", "开发", "做一个", "实现一个", "构建一个"):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    head = text.split("，")[0].split(",")[0][:TASK_NAME_CHARS]
    return f"{head}..."


def params_of(request: GenerateAsyncRequest) -> CodegenParams:
    requirement = (request.user_requirement or "").strip()
    if not requirement:
        raise _bad("userRequirement", "用户需求不能为空")
    if len(requirement) > MAX_REQUIREMENT_CHARS:
        raise _bad("userRequirement", f"用户需求不能超过{MAX_REQUIREMENT_CHARS}字符"
                                      f"（当前{len(requirement)}字符）")
    package = (request.package_name or "").strip()
    if package and not valid_package(package):
        raise _bad("packageName", f"packageName不是合法的Kotlin包名：{package[:100]!r}"
                                  "（小写字母开头的标识符，以点分隔，如 com.example.shop）")
    return CodegenParams(user_requirement=requirement, package_name=package,
                         skip_validation=request.skip_validation,
                         quality_threshold=request.quality_threshold,
                         generate_preview=request.generate_preview)


class CodegenService:
    def __init__(self, db: AsyncEngine, storage: Storage, task_service: TaskService) -> None:
        self._db = db
        self._storage = storage
        self._tasks = task_service

    def _presign(self, key: str, filename: str | None) -> str:
        return self._storage.presigned_get(key, filename=filename)

    async def create(self, principal: Principal, request: GenerateAsyncRequest) -> Task:
        params = params_of(request)
        return await self._tasks.create(creation.NewTask(
            tenant_id=principal.tenant_id, user_id=principal.user_id, kind=CODEGEN,
            name=task_name(params.user_requirement),
            items=[creation.NewItem(msgspec.to_builtins(
                CodegenPayload(user_id=principal.user_id)))],
            params=msgspec.to_builtins(params), autostart=True, stages=AGENTS,
        ))

    def view(self, task: Task, stages: list[Stage]) -> dict[str, Any]:
        if task.kind != CODEGEN.name:
            return presenters.generic_view(task, stages)
        return presenters.codegen_view(task, stages, self._presign)

    async def status(self, principal: Principal, task_id: str) -> dict[str, Any]:
        return self.view(*await self._tasks.status(principal, task_id))

    async def cancel(self, principal: Principal, task_id: str) -> None:
        if self._is_uuid(task_id):
            task, stages = await self._tasks.status(principal, task_id)
            if task.kind == CODEGEN.name:
                status = presenters.codegen_status(task, stages)
                # Seed 002's table, plus `paused` (a pause through the generic task API).
                if status not in CANCELLABLE and status != "paused":
                    raise ApiError(400, "INVALID_TASK_STATE", f"任务无法取消（当前状态：{status}）",
                                   {"task_id": task.id, "current_status": status})
        await self._tasks.cancel(principal, task_id)

    @staticmethod
    def _is_uuid(value: str) -> bool:
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True

    async def page(self, principal: Principal, *, page_num: int, page_size: int,
                   status: str | None) -> tuple[int, list[dict[str, Any]]]:
        if status is not None and status not in LIST_STATUSES:
            raise _bad("status", f"status: one of {LIST_STATUSES}")
        stage = STAGE_OF_STATUS.get(status or "")
        where = readers.TaskFilter(
            tenant_id=principal.tenant_id, user_id=principal.owner_filter,
            statuses=(TaskStatus.RUNNING.value,) if stage else
            ((status,) if status else None),
            kind=CODEGEN.name if stage else None, running_stage=stage)
        total, tasks = await self._tasks.page(where, offset=(page_num - 1) * page_size,
                                              limit=page_size)
        ours = [t.id for t in tasks if t.kind == CODEGEN.name]
        async with self._db.connect() as conn:
            stages = await repo.stages_of(conn, ours) if ours else {}
        return total, [presenters.codegen_summary(t, stages.get(t.id, []), self._presign)
                       if t.kind == CODEGEN.name else presenters.generic_summary(t)
                       for t in tasks]

    async def file(self, principal: Principal, task_id: str, path: str) -> dict[str, Any]:
        """One file of a completed generation's project, read from its stored ZIP."""
        task, stages = await self._tasks.status(principal, task_id)
        generated = next((s.metadata for s in stages if s.name == "generate"), {})
        key = generated.get("archiveKey")
        if task.kind != CODEGEN.name or task.status is not TaskStatus.COMPLETED or not key:
            raise ApiError(404, "FILE_NOT_FOUND", f"task {task_id} has no generated project")
        if path not in generated.get("files", []):
            raise ApiError(404, "FILE_NOT_FOUND", f"{path!r} is not a file of the project")
        archive = await self._storage.get_bytes(str(key), MAX_ARCHIVE_BYTES)
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            member = next(n for n in zipped.namelist() if n.split("/", 1)[-1] == path)
            content = zipped.read(member).decode("utf-8", errors="replace")
        return {"path": path, "bytes": len(content.encode()), "content": content}

    async def app_spec(self, principal: Principal, spec_id: str) -> dict[str, Any]:
        found = None
        if self._is_uuid(spec_id):
            async with self._db.connect() as conn:
                found = await repo.app_spec(conn, principal, spec_id)
        if found is None:
            raise ApiError(404, "APP_SPEC_NOT_FOUND", f"app spec {spec_id} does not exist")
        return {"appSpecId": str(found["id"]), "taskId": str(found["task_id"]),
                "version": found["version"], "createdAt": iso(found["created_at"]),
                "spec": found["spec"]}
