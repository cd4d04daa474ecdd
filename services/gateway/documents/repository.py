"""SQL of the documents API: templates and data sources (tenant-scoped)."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import readers
from libs.tasks.kinds import DOCUMENTS
from libs.tasks.model import UNFINISHED

_json = msgspec.json.Encoder()


class Template(msgspec.Struct, kw_only=True):
    id: str
    name: str
    filename: str
    object_key: str
    size_bytes: int
    fields: list[str]
    created_at: Any
    # libs.docxfast.choice: `parts` or `docxtpl`, and why not `parts`
    renderer: str = "docxtpl"
    renderer_reason: str | None = None
    # libs.docxfast.merge_safety: `merged` or `single` PDFs, and why not `merged`
    pdf_mode: str = "single"
    pdf_mode_reason: str | None = None


class DataSource(msgspec.Struct, kw_only=True):
    id: str
    name: str
    format: str
    object_key: str
    row_count: int
    columns: list[str]
    created_at: Any


class AlreadyExists(Exception):
    pass


async def _insert(conn: AsyncConnection, table: str, row: dict[str, Any], json_column: str) -> None:
    columns = ", ".join(row)
    values = ", ".join(f"CAST(:{c} AS jsonb)" if c == json_column else f":{c}" for c in row)
    try:
        async with conn.begin_nested():
            await conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"),
                               {**row, json_column: _json.encode(row[json_column]).decode()})
    except IntegrityError as exc:
        raise AlreadyExists(row["id"]) from exc


async def insert_template(conn: AsyncConnection, tenant_id: str, user_id: str,
                          template: Template) -> None:
    await _insert(conn, "doc_templates", {"tenant_id": tenant_id, "created_by": user_id,
                                          **msgspec.structs.asdict(template)}, "fields")


async def get_templates(conn: AsyncConnection, tenant_id: str,
                        ids: list[str] | None = None) -> list[Template]:
    rows = await conn.execute(text(
        """SELECT id, name, filename, object_key, size_bytes, fields, created_at, renderer,
        renderer_reason, pdf_mode, pdf_mode_reason FROM doc_templates WHERE tenant_id = :tenant_id
          AND (CAST(:ids AS text[]) IS NULL OR id = ANY(CAST(:ids AS text[])))
        ORDER BY created_at DESC, id"""), {"tenant_id": tenant_id, "ids": ids})
    return [msgspec.convert(dict(row._mapping), Template) for row in rows]


async def template_in_use(conn: AsyncConnection, tenant_id: str, template_id: str) -> bool:
    """Does an unfinished documents task of the tenant render this template?"""
    return await readers.count_tasks(conn, readers.TaskFilter(
        tenant_id=tenant_id, kind=DOCUMENTS.name, statuses=UNFINISHED,
        params_hold=("templates", template_id))) > 0


async def delete_template(conn: AsyncConnection, tenant_id: str, template_id: str) -> str | None:
    """Delete and return the object key, or None if there was no such template."""
    key = await conn.scalar(text(
        """DELETE FROM doc_templates WHERE tenant_id = :tenant_id AND id = :id
        RETURNING object_key"""), {"tenant_id": tenant_id, "id": template_id})
    return None if key is None else str(key)


async def insert_data_source(conn: AsyncConnection, tenant_id: str, user_id: str,
                             source: DataSource) -> None:
    await _insert(conn, "doc_data_sources", {"tenant_id": tenant_id, "created_by": user_id,
                                             **msgspec.structs.asdict(source)}, "columns")


async def get_data_sources(conn: AsyncConnection, tenant_id: str,
                           source_id: str | None = None) -> list[DataSource]:
    rows = await conn.execute(text(
        """SELECT id, name, format, object_key, row_count, columns, created_at
        FROM doc_data_sources WHERE tenant_id = :tenant_id
          AND (CAST(:id AS text) IS NULL OR id = :id)
        ORDER BY created_at DESC, id"""), {"tenant_id": tenant_id, "id": source_id})
    return [msgspec.convert(dict(row._mapping), DataSource) for row in rows]


async def delete_data_source(conn: AsyncConnection, tenant_id: str,
                             source_id: str) -> str | None:
    key = await conn.scalar(text(
        """DELETE FROM doc_data_sources WHERE tenant_id = :tenant_id AND id = :id
        RETURNING object_key"""), {"tenant_id": tenant_id, "id": source_id})
    return None if key is None else str(key)
