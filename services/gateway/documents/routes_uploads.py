"""Templates (DOCX) and data sources (CSV/XLSX/JSON): upload, list, get, delete."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.storage import Storage
from libs.tasks.model import utcnow
from services.gateway.auth.repository import Principal
from services.gateway.documents import repository as repo
from services.gateway.documents.envelope import ok
from services.gateway.documents.schemas import (
    DataSourceDeletedResponse,
    DataSourceListResponse,
    DataSourceResponse,
    TemplateDeletedResponse,
    TemplateListResponse,
    TemplateResponse,
)
from services.gateway.documents.uploads import (
    BadUpload,
    parse_rows,
    template_fields,
    template_renderer,
)
from services.gateway.errors import ApiError, validation_error
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.tasks.presenters import iso

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
MAX_DATA_BYTES = 20 * 1024 * 1024
_ID = msgspec.json.Decoder(Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")])


@dataclass
class UploadForm:
    file: UploadFile
    name: str | None = None
    id: str | None = None


Multipart = Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]


async def _read(form: UploadForm, max_bytes: int) -> bytes:
    data = await form.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"file: larger than {max_bytes} bytes")
    if not data:
        raise validation_error("file", "empty file")
    return data


def _chosen_id(form: UploadForm, prefix: str) -> str:
    if form.id is None:
        return f"{prefix}_{secrets.token_hex(6)}"
    try:
        return str(_ID.decode(msgspec.json.encode(form.id)))
    except msgspec.ValidationError:
        raise validation_error("id", "1-64 letters, digits, '_', '.' or '-'") from None


def _name(form: UploadForm) -> str:
    name = (form.name or form.file.filename or "untitled").strip()
    if len(name) > 255:
        raise validation_error("name", "at most 255 characters")
    return name


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _store_then_record(
    db: AsyncEngine, storage: Storage, key: str, content: bytes, content_type: str,
    record: Callable[[AsyncConnection], Awaitable[None]], conflict: ApiError,
) -> None:
    """Object first, then its row: a row never points at a missing object, and an object
    whose row could not be written (the id is taken) is removed again."""
    await storage.put_bytes(key, content, content_type)
    try:
        async with db.begin() as conn:
            await record(conn)
    except repo.AlreadyExists:
        await storage.delete_keys([key])
        raise conflict from None


def template_view(template: repo.Template) -> dict[str, Any]:
    return {"templateId": template.id, "templateName": template.name,
            "filename": template.filename, "size": template.size_bytes,
            "fields": template.fields, "createdAt": iso(template.created_at),
            "renderer": template.renderer, "rendererReason": template.renderer_reason}


def data_source_view(source: repo.DataSource) -> dict[str, Any]:
    return {"dataSourceId": source.id, "name": source.name, "format": source.format,
            "rowCount": source.row_count, "columns": source.columns,
            "createdAt": iso(source.created_at)}


def template_not_found(template_id: str) -> ApiError:
    return ApiError(404, "TEMPLATE_NOT_FOUND", f"template {template_id} does not exist",
                    [{"field": "templateIds", "message": f"{template_id} does not exist"}])


class TemplateController(Controller):
    path = "/api/v2/templates"
    tags = ["documents"]

    @post("/", status_code=201, summary="Upload a DOCX template (multipart: file, name, id)",
          responses=documented(TemplateResponse, 201, errors=(409, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, request: Request[Any, Any, Any], data: Multipart,
                     principal: Principal, db: AsyncEngine, storage: Storage) -> dict[str, Any]:
        content = await _read(data, MAX_TEMPLATE_BYTES)
        template_id = _chosen_id(data, "tpl")
        try:
            fields = await asyncio.to_thread(template_fields, content)
        except BadUpload as exc:
            raise ApiError(400, "INVALID_TEMPLATE", str(exc),
                           [{"field": "file", "message": str(exc)}]) from exc
        choice = await asyncio.to_thread(template_renderer, content)
        key = f"templates/{principal.tenant_id}/{template_id}-{secrets.token_hex(4)}.docx"
        template = repo.Template(id=template_id, name=_name(data),
                                 filename=data.file.filename or "template.docx", object_key=key,
                                 size_bytes=len(content), fields=fields, created_at=utcnow(),
                                 renderer=choice.renderer, renderer_reason=choice.reason)
        await _store_then_record(
            db, storage, key, content, DOCX_TYPE,
            lambda conn: repo.insert_template(conn, principal.tenant_id, principal.user_id,
                                              template),
            ApiError(409, "TEMPLATE_EXISTS", f"template {template_id} already exists",
                     [{"field": "id", "message": "already exists"}]))
        return ok(request, template_view(template))

    @get("/", summary="List templates", responses=documented(TemplateListResponse))
    async def list_templates(self, request: Request[Any, Any, Any], principal: Principal,
                             db: AsyncEngine) -> dict[str, Any]:
        async with db.connect() as conn:
            templates = await repo.get_templates(conn, principal.tenant_id)
        return ok(request, [template_view(t) for t in templates])

    @get("/{template_id:str}", summary="A template and the fields it uses",
         responses=documented(TemplateResponse, errors=(404,)))
    async def get_template(self, request: Request[Any, Any, Any], template_id: str,
                           principal: Principal, db: AsyncEngine) -> dict[str, Any]:
        async with db.connect() as conn:
            found = await repo.get_templates(conn, principal.tenant_id, [template_id])
        if not found:
            raise template_not_found(template_id)
        return ok(request, template_view(found[0]))

    @delete("/{template_id:str}", status_code=200, summary="Delete a template",
            responses=documented(TemplateDeletedResponse, errors=(404, 409)))
    async def delete_template(self, request: Request[Any, Any, Any], template_id: str,
                              principal: Principal, db: AsyncEngine,
                              storage: Storage) -> dict[str, Any]:
        async with db.begin() as conn:
            if await repo.template_in_use(conn, principal.tenant_id, template_id):
                raise ApiError(409, "TEMPLATE_IN_USE",
                               f"template {template_id} is used by an unfinished task")
            key = await repo.delete_template(conn, principal.tenant_id, template_id)
        if key is None:
            raise template_not_found(template_id)
        await storage.delete_keys([key])
        return ok(request, {"templateId": template_id, "deleted": True})


class DataSourceController(Controller):
    path = "/api/v2/data-sources"
    tags = ["documents"]

    @post("/", status_code=201, summary="Upload rows: CSV, XLSX or JSON (multipart)",
          responses=documented(DataSourceResponse, 201, errors=(409, 413)),
          opt=IDEMPOTENT_CREATE)
    async def upload(self, request: Request[Any, Any, Any], data: Multipart,
                     principal: Principal, db: AsyncEngine, storage: Storage) -> dict[str, Any]:
        content = await _read(data, MAX_DATA_BYTES)
        source_id = _chosen_id(data, "ds")
        try:
            fmt, rows = await asyncio.to_thread(parse_rows, content, data.file.filename or "")
        except BadUpload as exc:
            raise ApiError(400, "VALIDATION_ERROR", str(exc),
                           [{"field": "file", "message": str(exc)}]) from exc
        columns = sorted({key for row in rows for key in row})
        key = f"datasources/{principal.tenant_id}/{source_id}-{secrets.token_hex(4)}.json"
        source = repo.DataSource(id=source_id, name=_name(data), format=fmt, object_key=key,
                                 row_count=len(rows), columns=columns, created_at=utcnow())
        await _store_then_record(
            db, storage, key, msgspec.json.encode(rows), "application/json",
            lambda conn: repo.insert_data_source(conn, principal.tenant_id, principal.user_id,
                                                 source),
            ApiError(409, "DATA_SOURCE_EXISTS", f"data source {source_id} already exists",
                     [{"field": "id", "message": "already exists"}]))
        return ok(request, data_source_view(source))

    @get("/", summary="List data sources", responses=documented(DataSourceListResponse))
    async def list_sources(self, request: Request[Any, Any, Any], principal: Principal,
                           db: AsyncEngine) -> dict[str, Any]:
        async with db.connect() as conn:
            sources = await repo.get_data_sources(conn, principal.tenant_id)
        return ok(request, [data_source_view(s) for s in sources])

    @get("/{source_id:str}", summary="A data source",
         responses=documented(DataSourceResponse, errors=(404,)))
    async def get_source(self, request: Request[Any, Any, Any], source_id: str,
                         principal: Principal, db: AsyncEngine) -> dict[str, Any]:
        async with db.connect() as conn:
            found = await repo.get_data_sources(conn, principal.tenant_id, source_id)
        if not found:
            raise ApiError(404, "DATA_SOURCE_NOT_FOUND", f"data source {source_id} does not exist")
        return ok(request, data_source_view(found[0]))

    @delete("/{source_id:str}", status_code=200, summary="Delete a data source",
            responses=documented(DataSourceDeletedResponse, errors=(404,)))
    async def delete_source(self, request: Request[Any, Any, Any], source_id: str,
                            principal: Principal, db: AsyncEngine,
                            storage: Storage) -> dict[str, Any]:
        async with db.begin() as conn:
            key = await repo.delete_data_source(conn, principal.tenant_id, source_id)
        if key is None:
            raise ApiError(404, "DATA_SOURCE_NOT_FOUND", f"data source {source_id} does not exist")
        await storage.delete_keys([key])
        return ok(request, {"dataSourceId": source_id, "deleted": True})
