"""All of the slides service's SQL: the render cache and the session log. Functions take a
connection and never commit."""

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_json = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    key: str
    object_key: str
    content_type: str
    bytes: int


async def touch_cache_entry(conn: AsyncConnection, key: str) -> CacheEntry | None:
    """The entry for `key`, marked as used now (which keeps it from expiring)."""
    row = (await conn.execute(
        text("""UPDATE slide_cache SET hits = hits + 1, last_used_at = now() WHERE key = :key
            RETURNING key, object_key, content_type, bytes"""),
        {"key": key},
    )).one_or_none()
    return CacheEntry(row.key, row.object_key, row.content_type, row.bytes) if row else None


async def upsert_cache_entry(
    conn: AsyncConnection, *, key: str, tenant_id: str, object_key: str, renderer: str,
    content_type: str, size: int, width: int, height: int,
) -> None:
    await conn.execute(
        text("""INSERT INTO slide_cache (key, tenant_id, object_key, renderer, content_type,
                bytes, width, height)
            VALUES (:key, :tenant_id, :object_key, :renderer, :content_type, :bytes, :width,
                :height)
            ON CONFLICT (key) DO UPDATE SET object_key = EXCLUDED.object_key,
                bytes = EXCLUDED.bytes, last_used_at = now()"""),
        {"key": key, "tenant_id": tenant_id, "object_key": object_key, "renderer": renderer,
         "content_type": content_type, "bytes": size, "width": width, "height": height},
    )


async def delete_cache_entry(conn: AsyncConnection, key: str) -> None:
    await conn.execute(text("DELETE FROM slide_cache WHERE key = :key"), {"key": key})


async def expired_cache_entries(
    conn: AsyncConnection, ttl_s: int, limit: int = 500
) -> list[tuple[str, str]]:
    """Lock entries unused for `ttl_s` (another instance sweeping skips them): (key, object)."""
    rows = await conn.execute(
        text("""SELECT key, object_key FROM slide_cache
            WHERE last_used_at < now() - :ttl * interval '1 second'
            ORDER BY last_used_at LIMIT :limit FOR UPDATE SKIP LOCKED"""),
        {"ttl": ttl_s, "limit": limit},
    )
    return [(row.key, row.object_key) for row in rows]


async def delete_cache_entries(conn: AsyncConnection, keys: list[str]) -> None:
    await conn.execute(text("DELETE FROM slide_cache WHERE key = ANY(:keys)"), {"keys": keys})


async def insert_log(
    conn: AsyncConnection, *, session_id: str, task_id: str, event: str, level: str,
    details: dict[str, Any], seq: int | None = None, attempt: int | None = None,
) -> None:
    await conn.execute(
        text("""INSERT INTO slide_logs (session_id, task_id, seq, attempt, event, level, details)
            VALUES (:session_id, :task_id, :seq, :attempt, :event, :level,
                CAST(:details AS jsonb))
            ON CONFLICT DO NOTHING"""),
        {"session_id": session_id, "task_id": task_id, "seq": seq, "attempt": attempt,
         "event": event, "level": level, "details": _json.encode(details).decode()},
    )
