"""All SQL of the `servers` table. A local server's status and workflows are read from its
instance's heartbeats (`instances`), a remote one's from the registry's checks; what a server
is running is its unfinished task holding `server:<name>`. Nothing here commits."""

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.servers.model import NewServer, Server, ServerStatus, exclusivity_key

_json = msgspec.json.Encoder()
_KEY_PREFIX = exclusivity_key("")

_SELECT = """
SELECT s.name, s.type, s.url, s.enabled, s.batch_size, s.auto, s.last_error, s.checked_at,
    s.created_at, s.updated_at, s.owner_tenant_id,
    CASE WHEN s.type = 'remote' THEN s.health
         WHEN i.status = 'online' AND jsonb_typeof(i.capabilities -> 'workflows') = 'array'
             AND jsonb_array_length(i.capabilities -> 'workflows') > 0 THEN 'online'
         WHEN i.status = 'online' THEN 'error'
         ELSE 'offline' END AS status,
    CASE WHEN s.type = 'remote' THEN s.capabilities
         ELSE coalesce(i.capabilities, '{}'::jsonb) END AS capabilities,
    t.id AS current_task_id, t.tenant_id AS current_task_tenant, t.user_id AS current_task_user
FROM servers s
LEFT JOIN LATERAL (
    SELECT status, capabilities FROM instances WHERE name = s.name
    ORDER BY status = 'online' DESC, last_seen DESC LIMIT 1) i ON s.type = 'local'
LEFT JOIN tasks t ON t.exclusivity_key = :key_prefix || s.name
    AND t.status IN ('pending', 'running', 'paused')
"""


def _server(row: Any) -> Server:
    values = dict(row._mapping)
    for key in ("owner_tenant_id", "current_task_id", "current_task_tenant",
                "current_task_user"):
        if values[key] is not None:
            values[key] = str(values[key])
    return msgspec.convert(values, Server, strict=False)


async def list_servers(conn: AsyncConnection) -> list[Server]:
    rows = await conn.execute(text(f"{_SELECT} ORDER BY s.name"), {"key_prefix": _KEY_PREFIX})
    return [_server(row) for row in rows]


async def get_server(conn: AsyncConnection, name: str) -> Server | None:
    row = (await conn.execute(text(f"{_SELECT} WHERE s.name = :name"),
                              {"name": name, "key_prefix": _KEY_PREFIX})).one_or_none()
    return _server(row) if row else None


async def register(conn: AsyncConnection, new: NewServer) -> bool:
    """Insert; or, for the operator only, adopt a local server its own heartbeat added (a
    tenant may not take over a server of the system). False: the name is taken."""
    row = (await conn.execute(text(
        """INSERT INTO servers (name, type, url, enabled, batch_size, owner_tenant_id)
        VALUES (:name, :type, :url, :enabled, :batch_size, CAST(:owner_tenant_id AS uuid))
        ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, enabled = EXCLUDED.enabled,
            batch_size = EXCLUDED.batch_size, auto = false, updated_at = now()
        WHERE servers.auto AND servers.type = EXCLUDED.type
            AND EXCLUDED.owner_tenant_id IS NULL
        RETURNING name"""), msgspec.structs.asdict(new))).one_or_none()
    return row is not None


# The owner check lives in each statement too, so a change races with nothing.
_OWNED = "owner_tenant_id IS NOT DISTINCT FROM CAST(:owner AS uuid)"


async def update(conn: AsyncConnection, name: str, *, owner_tenant_id: str | None,
                 enabled: bool | None, batch_size: int | None) -> bool:
    """False: no server of that name belongs to `owner_tenant_id` (None: the operator)."""
    row = (await conn.execute(text(
        f"""UPDATE servers SET enabled = coalesce(:enabled, enabled),
            batch_size = coalesce(:batch_size, batch_size), auto = false, updated_at = now()
        WHERE name = :name AND {_OWNED} RETURNING name"""),
        {"name": name, "enabled": enabled, "batch_size": batch_size,
         "owner": owner_tenant_id})).one_or_none()
    return row is not None


async def delete(conn: AsyncConnection, name: str, *, owner_tenant_id: str | None) -> bool:
    """Delete unless it runs a task (the caller checked; this re-checks under the row lock)
    or belongs to someone else (the caller checked that too)."""
    row = (await conn.execute(text(
        f"""DELETE FROM servers s WHERE s.name = :name AND {_OWNED} AND NOT EXISTS (
            SELECT 1 FROM tasks WHERE exclusivity_key = :key
            AND status IN ('pending', 'running', 'paused'))
        RETURNING name"""), {"name": name, "key": exclusivity_key(name),
                             "owner": owner_tenant_id})).one_or_none()
    return row is not None


async def ensure_local(conn: AsyncConnection, name: str, batch_size: int) -> None:
    """A worker instance that runs workflows registers itself (once; an admin may change it)."""
    await conn.execute(text(
        """INSERT INTO servers (name, type, url, batch_size, auto)
        VALUES (:name, 'local', :url, :batch_size, true) ON CONFLICT (name) DO NOTHING"""),
        {"name": name, "url": f"local://{name}", "batch_size": batch_size})


async def remote_urls(conn: AsyncConnection) -> dict[str, str]:
    """Every remote server (enabled or not: a disabled one may still finish its task)."""
    rows = await conn.execute(text("SELECT name, url FROM servers WHERE type = 'remote'"))
    return {row.name: row.url for row in rows}


async def record_health(
    conn: AsyncConnection, name: str, url: str, *, status: ServerStatus,
    capabilities: dict[str, Any] | None, error: str | None, offline_after: int,
) -> None:
    """Store a check's verdict. One failed connection is not yet `offline` (a blip): only
    `offline_after` in a row are. A wrong answer is `error` at once. A check of a URL that
    changed meanwhile is dropped."""
    await conn.execute(text(
        """UPDATE servers SET
            failures = CASE WHEN :status = 'online' THEN 0 ELSE failures + 1 END,
            health = CASE WHEN :status = 'offline' AND health = 'online'
                AND failures + 1 < :offline_after THEN 'online' ELSE :status END,
            capabilities = coalesce(CAST(:caps AS jsonb), capabilities),
            last_error = CAST(:error AS text), checked_at = now()
        WHERE name = :name AND type = 'remote' AND url = :url"""),
        {"name": name, "url": url, "status": status.value, "error": error,
         "offline_after": offline_after,
         "caps": None if capabilities is None else _json.encode(capabilities).decode()})
