"""`/files`: the caller's tenant's files, which batches read and write. Folders are path
prefixes: `PUT /files/reports/q1/a.docx` creates the folders it needs. Large files go straight
to S3 with a presigned upload URL (`POST /files/upload-url`), never through the gateway."""

import mimetypes
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from litestar.response import Redirect

from libs.storage import Storage
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, validation_error
from services.gateway.openapi import documented, redirect_errors
from services.gateway.servers.dto import UploadUrlRequest
from services.gateway.servers.paths import BadPath, normalize, shown, tenant_root
from services.gateway.servers.schemas import (
    FileDeleted,
    FileList,
    StoredFile,
    UploadUrl,
)
from services.gateway.tasks.presenters import iso

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
    async def upload_url(self, request: Request[Any, Any, Any], data: UploadUrlRequest,
                         principal: Principal, storage: Storage) -> dict[str, Any]:
        path = _path(data.path)
        ttl = request.app.state.settings.presign_ttl_s
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
    async def download(self, file_path: Path, principal: Principal,
                       storage: Storage) -> Redirect:
        path = _path(file_path)
        key = tenant_root(principal.tenant_id) + path
        if not await storage.exists(key):
            raise _not_found(path)
        return Redirect(storage.presigned_get(key, filename=Path(path).name))

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
