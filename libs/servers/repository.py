"""All SQL of the `servers` table. A local server's status and workflows are read from its
instance's heartbeats (`instances`), a remote one's from the registry's checks; what a server
is running is its unfinished task holding `server:<name>` (read through `libs.tasks.readers`,
which owns the task tables). Nothing here commits.

Who a server runs for (`_RUNS_FOR`, the one statement of the rule): its owner tenant's
batches only; a server of the operator (no owner tenant) runs the operator's, and everyone's
when it is local (one of Conveyor's own instances) or an operator marked it `shared`. A tenant
sees exactly the servers that run its batches: any other server does not exist for it."""

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.servers.model import NewServer, Server, ServerStatus, Viewer, exclusivity_key
from libs.tasks import readers

_json = msgspec.json.Encoder()

_SELECT = """
SELECT s.name, s.type, s.url, s.enabled, s.batch_size, s.auto, s.last_error, s.checked_at,
    s.created_at, s.updated_at, s.owner_tenant_id, s.shared,
    CASE WHEN s.type = 'remote' THEN s.health
         WHEN i.status = 'online' AND jsonb_typeof(i.capabilities -> 'workflows') = 'array'
             AND jsonb_array_length(i.capabilities -> 'workflows') > 0 THEN 'online'
         WHEN i.status = 'online' THEN 'error'
         ELSE 'offline' END AS status,
    CASE WHEN s.type = 'remote' THEN s.capabilities
         ELSE coalesce(i.capabilities, '{}'::jsonb) END AS capabilities
FROM servers s
LEFT JOIN LATERAL (
    SELECT status, capabilities FROM instances WHERE name = s.name
    ORDER BY status = 'online' DESC, last_seen DESC LIMIT 1) i ON s.type = 'local'
"""


_RUNS_FOR = """(s.owner_tenant_id = CAST(:tenant AS uuid)
    OR (s.owner_tenant_id IS NULL AND (s.type = 'local' OR s.shared
        OR EXISTS (SELECT 1 FROM tenants t
                   WHERE t.id = CAST(:tenant AS uuid) AND t.name = :operator))))"""


def _viewer(viewer: Viewer) -> dict[str, str]:
    return {"tenant": viewer.tenant_id, "operator": viewer.operator_tenant}


async def _servers(conn: AsyncConnection, rows: Sequence[Any]) -> list[Server]:
    """Servers from their rows, each with the task it is running (if any)."""
    holders = await readers.exclusive_holders(conn, [exclusivity_key(r.name) for r in rows])
    servers = []
    for row in rows:
        values = dict(row._mapping)
        if values["owner_tenant_id"] is not None:
            values["owner_tenant_id"] = str(values["owner_tenant_id"])
        holder = holders.get(exclusivity_key(row.name))
        if holder:
            values.update(current_task_id=holder.task_id, current_task_tenant=holder.tenant_id,
                          current_task_user=holder.user_id)
        servers.append(msgspec.convert(values, Server, strict=False))
    return servers


async def every_server(conn: AsyncConnection) -> list[Server]:
    """All of them, whoever owns them: for the registry's own bookkeeping, never a tenant."""
    rows = (await conn.execute(text(f"{_SELECT} ORDER BY s.name"))).all()
    return await _servers(conn, rows)


async def list_servers(conn: AsyncConnection, viewer: Viewer) -> list[Server]:
    """The servers that run `viewer`'s batches."""
    rows = (await conn.execute(text(f"{_SELECT} WHERE {_RUNS_FOR} ORDER BY s.name"),
                               _viewer(viewer))).all()
    return await _servers(conn, rows)


async def get_server(conn: AsyncConnection, name: str, viewer: Viewer) -> Server | None:
    """The server, if it runs `viewer`'s batches (for anyone else it does not exist)."""
    rows = (await conn.execute(text(f"{_SELECT} WHERE s.name = :name AND {_RUNS_FOR}"),
                               {"name": name, **_viewer(viewer)})).all()
    found = await _servers(conn, rows)
    return found[0] if found else None


async def runs_for(conn: AsyncConnection, name: str, viewer: Viewer) -> bool:
    """Whether the server may be handed `viewer`'s batch now (asked again by the registry
    before every submission: a server un-shared or re-owned meanwhile gets nothing)."""
    found = await conn.scalar(
        text(f"SELECT 1 FROM servers s WHERE s.name = :name AND {_RUNS_FOR}"),
        {"name": name, **_viewer(viewer)})
    return found is not None


async def register(conn: AsyncConnection, new: NewServer) -> bool:
    """Insert; or, for the operator only, adopt a local server its own heartbeat added (a
    tenant may not take over a server of the system). False: the name is taken."""
    row = (await conn.execute(text(
        """INSERT INTO servers (name, type, url, enabled, batch_size, owner_tenant_id, shared)
        VALUES (:name, :type, :url, :enabled, :batch_size, CAST(:owner_tenant_id AS uuid),
            :shared)
        ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, enabled = EXCLUDED.enabled,
            batch_size = EXCLUDED.batch_size, shared = EXCLUDED.shared, auto = false,
            updated_at = now()
        WHERE servers.auto AND servers.type = EXCLUDED.type
            AND EXCLUDED.owner_tenant_id IS NULL
        RETURNING name"""), msgspec.structs.asdict(new))).one_or_none()
    return row is not None


# The owner check lives in each statement too, so a change races with nothing.
_OWNED = "owner_tenant_id IS NOT DISTINCT FROM CAST(:owner AS uuid)"


async def update(conn: AsyncConnection, name: str, *, owner_tenant_id: str | None,
                 enabled: bool | None, batch_size: int | None,
                 shared: bool | None = None) -> bool:
    """False: no server of that name belongs to `owner_tenant_id` (None: the operator)."""
    row = (await conn.execute(text(
        f"""UPDATE servers SET enabled = coalesce(:enabled, enabled),
            batch_size = coalesce(:batch_size, batch_size), shared = coalesce(:shared, shared),
            auto = false, updated_at = now()
        WHERE name = :name AND {_OWNED} RETURNING name"""),
        {"name": name, "enabled": enabled, "batch_size": batch_size, "shared": shared,
         "owner": owner_tenant_id})).one_or_none()
    return row is not None


async def delete(conn: AsyncConnection, name: str, *, owner_tenant_id: str | None) -> bool:
    """Delete unless it runs a task (the caller checked; this re-checks under the row lock)
    or belongs to someone else (the caller checked that too)."""
    locked = await conn.scalar(
        text(f"SELECT name FROM servers WHERE name = :name AND {_OWNED} FOR UPDATE"),
        {"name": name, "owner": owner_tenant_id})
    if locked is None or await readers.exclusive_holder(conn, exclusivity_key(name)):
        return False
    await conn.execute(text("DELETE FROM servers WHERE name = :name"), {"name": name})
    return True


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
