"""The batch-server API: registered servers (register and list as their clients know them,
plus get, change, remove), batches of a workflow on a chosen server (check, process, status,
list, cancel), and the tenant's files those batches read and write. Folders are path prefixes:
`PUT /files/reports/q1/a.docx` creates the folders it needs; large files go straight to S3
with a presigned upload URL (`POST /files/upload-url`), never through the gateway."""

import mimetypes
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import Parameter
from litestar.response import Redirect

from libs.storage import Storage
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented, redirect_errors
from services.gateway.servers.dto import (
    BatchBody,
    RegisterServerBody,
    UpdateServerRequest,
    UploadUrlRequest,
)
from services.gateway.servers.paths import BadPath, normalize, shown, tenant_root
from services.gateway.servers.presenters import batch_task_view, server_view
from services.gateway.servers.schemas import (
    BatchTaskView,
    FileDeleted,
    FileList,
    ServerBatchStarted,
    ServerCheck,
    ServerDeleted,
    ServerView,
    StoredFile,
    UploadUrl,
)
from services.gateway.servers.service import ServerService
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.presenters import iso
from services.gateway.tasks.service import TaskService


class ServerController(Controller):
    path = "/servers"
    tags = ["servers"]

    @post("/register", status_code=200, summary="Register a server (admin)",
          responses=documented(ServerView, errors=(403, 409)),
          opt=IDEMPOTENT_CREATE)
    async def register(self, data: RegisterServerBody, principal: Principal,
                       server_service: ServerService) -> dict[str, Any]:
        return server_view(await server_service.register(principal, data), principal)

    @get("/", summary="Every registered server with its status",
         responses=documented(list[ServerView]))
    async def list_servers(self, principal: Principal,
                           server_service: ServerService) -> list[dict[str, Any]]:
        return [server_view(server, principal)
                for server in await server_service.servers(principal)]

    @get("/{name:str}", summary="One server", responses=documented(ServerView, errors=(404,)))
    async def get_server(self, name: str, principal: Principal,
                         server_service: ServerService) -> dict[str, Any]:
        return server_view(await server_service.get(principal, name), principal)

    @patch("/{name:str}", summary="Enable, disable or resize a server (admin)",
           responses=documented(ServerView, errors=(403, 404)))
    async def update(self, name: str, data: UpdateServerRequest, principal: Principal,
                     server_service: ServerService) -> dict[str, Any]:
        return server_view(await server_service.update(principal, name, data), principal)

    @delete("/{name:str}", status_code=200, summary="Unregister a server that is idle (admin)",
            responses=documented(ServerDeleted, errors=(403, 404, 409)))
    async def remove(self, name: str, principal: Principal,
                     server_service: ServerService) -> dict[str, Any]:
        await server_service.remove(principal, name)
        return {"name": name, "deleted": True}


class BatchController(Controller):
    path = "/batch"
    tags = ["servers"]

    @post("/check-server", status_code=200,
          summary="Can the server run this batch now? (400 when not, 404 unknown)",
          responses=documented(ServerCheck, errors=(404,)))
    async def check_server(self, data: BatchBody, principal: Principal,
                           server_service: ServerService) -> dict[str, Any]:
        found = await server_service.plan(principal, data, unavailable_status=400)
        return {"available": True, "server_name": found.server.name,
                "batch_size": found.server.batch_size, "message": "服务器可用",
                "workflow_name": found.workflow.name,
                "total_files": len(found.selection.files),
                "skipped_files": found.selection.skipped}

    @post("/process", status_code=200, summary="Start a batch on the selected server",
          responses=documented(ServerBatchStarted, errors=(404, 503)),
          opt=IDEMPOTENT_CREATE)
    async def process(self, data: BatchBody, principal: Principal,
                      server_service: ServerService) -> dict[str, Any]:
        task, found = await server_service.process(principal, data)
        return {"task_id": task.id, "status": task.status.value, "message": "批处理任务已启动",
                "created_at": iso(task.created_at), "server_name": found.server.name,
                "workflow_name": found.workflow.name, "total_files": task.total,
                "batch_size": task.concurrency}

    @get("/tasks/{task_id:str}", summary="A batch task's status",
         responses=documented(BatchTaskView, errors=(404,)))
    async def status(self, task_id: str, principal: Principal, server_service: ServerService,
                     task_service: TaskService) -> dict[str, Any]:
        task = await server_service.batch_task(principal, task_id)
        return batch_task_view(task, await task_service.queue_position(task))

    @get("/tasks", summary="The caller's batch tasks, newest first",
         responses=documented(list[BatchTaskView]))
    async def list_tasks(
        self, principal: Principal, server_service: ServerService,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> list[dict[str, Any]]:
        tasks = await server_service.batch_tasks(principal, offset=offset, limit=limit)
        return [batch_task_view(task) for task in tasks]

    @post("/tasks/{task_id:str}/cancel", status_code=200, summary="Cancel a batch task",
          responses=documented(BatchTaskView, errors=(404,)))
    async def cancel(self, task_id: str, principal: Principal,
                     server_service: ServerService) -> dict[str, Any]:
        return batch_task_view(await server_service.cancel(principal, task_id))


MAX_LISTED = 1000
GENERIC_TYPES = ("application/x-www-form-urlencoded", "application/octet-stream")


def _path(raw: str | Path, field: str = "path") -> str:
    try:
        return normalize(str(raw))
    except BadPath as exc:
        raise validation_error(field, str(exc)) from None


def _not_found(path: str) -> ApiError:
    return ApiError(404, "FILE_NOT_FOUND", f"{shown(path)} does not exist")


class FileController(Controller):
    path = "/files"
    tags = ["files"]

    @put("/{file_path:path}", status_code=201, summary="Upload a file (the raw body)",
         responses=documented(StoredFile, 201, errors=(413,)))
    async def upload(self, request: Request[Any, Any, Any], file_path: Path,
                     principal: Principal, storage: Storage) -> dict[str, Any]:
        path = _path(file_path)
        content = await request.body()
        sent = request.headers.get("content-type", "").split(";")[0].strip()
        # curl -T/--data-binary label everything as a form or as octet-stream: the file's
        # name says more.
        if sent in ("", *GENERIC_TYPES):
            sent = mimetypes.guess_type(path)[0] or sent or "application/octet-stream"
        content_type = sent
        await storage.put_bytes(tenant_root(principal.tenant_id) + path, content, content_type)
        return {"path": shown(path), "size": len(content), "content_type": content_type}

    @post("/upload-url", status_code=200,
          summary="A presigned URL to PUT one large file straight to storage",
          responses=documented(UploadUrl))
    async def upload_url(self, data: UploadUrlRequest, principal: Principal, storage: Storage,
                         settings: GatewaySettings) -> dict[str, Any]:
        path = _path(data.path)
        ttl = settings.presign_ttl_s
        return {"path": shown(path), "method": "PUT", "expires_in": ttl,
                "url": storage.presigned_put(tenant_root(principal.tenant_id) + path)}

    @get("/", summary="List files under a folder (all when no prefix)",
         responses=documented(FileList))
    async def list_files(
        self, principal: Principal, storage: Storage,
        prefix: Annotated[str, Parameter(max_length=1024)] = "/",
    ) -> dict[str, Any]:
        root = tenant_root(principal.tenant_id)
        folder = "" if prefix.strip("/") == "" else _path(prefix, "prefix") + "/"
        found = await storage.list_objects(root + folder, limit=MAX_LISTED + 1)
        return {"prefix": "/" + folder, "truncated": len(found) > MAX_LISTED,
                "files": [{"path": shown(obj.key[len(root):]), "size": obj.size,
                           "modified_at": iso(obj.modified_at)} for obj in found[:MAX_LISTED]]}

    @get("/{file_path:path}", status_code=302,
         summary="Download: redirects to a short-lived presigned URL",
         responses=redirect_errors(404))
    async def download(self, file_path: Path, principal: Principal, storage: Storage) -> Redirect:
        path = _path(file_path)
        key = tenant_root(principal.tenant_id) + path
        url = await storage.download_url(key, filename=Path(path).name)
        if url is None:
            raise _not_found(path)
        return Redirect(url)

    @delete("/{file_path:path}", status_code=200, summary="Delete a file",
            responses=documented(FileDeleted, errors=(404,)))
    async def remove(self, file_path: Path, principal: Principal,
                     storage: Storage) -> dict[str, Any]:
        path = _path(file_path)
        key = tenant_root(principal.tenant_id) + path
        if not await storage.exists(key):
            raise _not_found(path)
        await storage.delete(key)
        return {"path": shown(path), "deleted": True}


SERVER_HANDLERS = [ServerController, BatchController, FileController]
