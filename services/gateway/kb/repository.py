"""The gateway's knowledge-base SQL: knowledge bases and documents (its tables), plus the
ingester's per-document index state, read for display. Never commits."""

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection


class KnowledgeBase(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str
    document_count: int
    created_at: datetime
    updated_at: datetime


class Document(msgspec.Struct, kw_only=True):
    id: str
    kb_id: str
    filename: str
    format: str
    content_type: str
    size_bytes: int
    content_hash: str
    storage_key: str
    status: str
    created_at: datetime
    updated_at: datetime
    indexed_hash: str | None = None
    chunk_count: int | None = None
    indexed_at: datetime | None = None


class NameTaken(Exception):
    pass


def _convert(row: Any, cls: type[Any]) -> Any:
    values = {k: str(v) if k in ("id", "kb_id") else v for k, v in row._mapping.items()}
    return msgspec.convert(values, cls, strict=False)


_KB = """SELECT k.id, k.name, k.description, k.created_at, k.updated_at,
    (SELECT count(*) FROM kb_documents d WHERE d.kb_id = k.id) AS document_count
    FROM knowledge_bases k"""


async def insert_kb(conn: AsyncConnection, *, kb_id: str, tenant_id: str, user_id: str,
                    name: str, description: str) -> KnowledgeBase:
    try:
        async with conn.begin_nested():
            await conn.execute(
                text("""INSERT INTO knowledge_bases (id, tenant_id, created_by, name, description)
                    VALUES (:id, :tenant_id, :user_id, :name, :description)"""),
                {"id": kb_id, "tenant_id": tenant_id, "user_id": user_id, "name": name,
                 "description": description},
            )
    except IntegrityError as exc:
        raise NameTaken(name) from exc
    kb = await get_kb(conn, tenant_id, kb_id)
    assert kb is not None
    return kb


async def count_kbs(conn: AsyncConnection, tenant_id: str) -> int:
    return int(await conn.scalar(
        text("SELECT count(*) FROM knowledge_bases WHERE tenant_id = :t"), {"t": tenant_id}
    ) or 0)


async def list_kbs(conn: AsyncConnection, tenant_id: str, *, offset: int,
                   limit: int) -> tuple[int, list[KnowledgeBase]]:
    total = await count_kbs(conn, tenant_id)
    rows = await conn.execute(
        text(f"""{_KB} WHERE k.tenant_id = :t ORDER BY k.created_at DESC, k.id
            LIMIT :limit OFFSET :offset"""),
        {"t": tenant_id, "limit": limit, "offset": offset},
    )
    return total, [_convert(row, KnowledgeBase) for row in rows]


async def get_kb(conn: AsyncConnection, tenant_id: str, kb_id: str, *,
                 for_update: bool = False) -> KnowledgeBase | None:
    lock = " FOR UPDATE OF k" if for_update else ""
    row = (await conn.execute(
        text(f"{_KB} WHERE k.id = :id AND k.tenant_id = :t{lock}"),
        {"id": kb_id, "t": tenant_id},
    )).one_or_none()
    return _convert(row, KnowledgeBase) if row else None


async def delete_kb(conn: AsyncConnection, tenant_id: str, kb_id: str) -> bool:
    """Documents, their index state and chunks go with it (ON DELETE CASCADE)."""
    deleted = await conn.execute(
        text("DELETE FROM knowledge_bases WHERE id = :id AND tenant_id = :t RETURNING 1"),
        {"id": kb_id, "t": tenant_id},
    )
    return deleted.first() is not None


_DOC = """SELECT d.id, d.kb_id, d.filename, d.format, d.content_type, d.size_bytes,
    d.content_hash, d.storage_key, d.status, d.created_at, d.updated_at,
    i.content_hash AS indexed_hash, i.chunk_count, i.indexed_at
    FROM kb_documents d LEFT JOIN kb_document_index i ON i.document_id = d.id"""


async def insert_document(conn: AsyncConnection, *, document_id: str, kb_id: str,
                          tenant_id: str, user_id: str, filename: str, fmt: str,
                          content_type: str, size_bytes: int, content_hash: str,
                          storage_key: str) -> Document:
    await conn.execute(
        text("""INSERT INTO kb_documents (id, kb_id, tenant_id, filename, format, content_type,
                size_bytes, content_hash, storage_key, created_by)
            VALUES (:id, :kb_id, :tenant_id, :filename, :format, :content_type, :size_bytes,
                :content_hash, :storage_key, :user_id)"""),
        {"id": document_id, "kb_id": kb_id, "tenant_id": tenant_id, "filename": filename,
         "format": fmt, "content_type": content_type, "size_bytes": size_bytes,
         "content_hash": content_hash, "storage_key": storage_key, "user_id": user_id},
    )
    document = await get_document(conn, kb_id, document_id)
    assert document is not None
    return document


async def replace_document(conn: AsyncConnection, *, kb_id: str, document_id: str,
                           filename: str, fmt: str, content_type: str, size_bytes: int,
                           content_hash: str, storage_key: str) -> str | None:
    """New content for a document; returns the storage key it replaced (None: no document)."""
    old = await conn.scalar(
        text("""SELECT storage_key FROM kb_documents WHERE id = :id AND kb_id = :kb_id
            FOR UPDATE"""),
        {"id": document_id, "kb_id": kb_id},
    )
    if old is None:
        return None
    await conn.execute(
        text("""UPDATE kb_documents SET filename = :filename, format = :format,
                content_type = :content_type, size_bytes = :size_bytes,
                content_hash = :content_hash, storage_key = :storage_key, updated_at = now()
            WHERE id = :id"""),
        {"id": document_id, "filename": filename, "format": fmt, "content_type": content_type,
         "size_bytes": size_bytes, "content_hash": content_hash, "storage_key": storage_key},
    )
    return str(old)


async def count_documents(conn: AsyncConnection, kb_id: str) -> int:
    return int(await conn.scalar(
        text("SELECT count(*) FROM kb_documents WHERE kb_id = :kb_id"), {"kb_id": kb_id}
    ) or 0)


async def list_documents(conn: AsyncConnection, kb_id: str, *, offset: int,
                         limit: int) -> tuple[int, list[Document]]:
    total = await count_documents(conn, kb_id)
    rows = await conn.execute(
        text(f"""{_DOC} WHERE d.kb_id = :kb_id ORDER BY d.created_at, d.id
            LIMIT :limit OFFSET :offset"""),
        {"kb_id": kb_id, "limit": limit, "offset": offset},
    )
    return total, [_convert(row, Document) for row in rows]


async def get_document(conn: AsyncConnection, kb_id: str, document_id: str) -> Document | None:
    row = (await conn.execute(text(f"{_DOC} WHERE d.id = :id AND d.kb_id = :kb_id"),
                              {"id": document_id, "kb_id": kb_id})).one_or_none()
    return _convert(row, Document) if row else None


async def delete_document(conn: AsyncConnection, kb_id: str, document_id: str) -> bool:
    """Its index state and chunks go with it (ON DELETE CASCADE), in this transaction."""
    deleted = await conn.execute(
        text("DELETE FROM kb_documents WHERE id = :id AND kb_id = :kb_id RETURNING 1"),
        {"id": document_id, "kb_id": kb_id},
    )
    return deleted.first() is not None


async def documents_for_sync(conn: AsyncConnection, kb_id: str,
                             document_ids: list[str] | None) -> list[tuple[str, str]]:
    """(id, filename) of the knowledge base's uploaded documents, all or the listed ones, in
    upload order."""
    rows = await conn.execute(
        text("""SELECT id, filename FROM kb_documents WHERE kb_id = :kb_id
            AND status = 'uploaded'
            AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
            ORDER BY created_at, id"""),
        {"kb_id": kb_id, "ids": document_ids},
    )
    return [(str(row.id), row.filename) for row in rows]
