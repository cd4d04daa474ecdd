"""The gateway's read-only view of the registry's `instances` table (its SQL): which services
run, which output formats are online, every instance."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def service_states(conn: AsyncConnection) -> dict[str, str]:
    """Each service that ever reported: running if any instance of it is online."""
    rows = await conn.execute(text(
        """SELECT service, bool_or(status = 'online') AS online FROM instances
        GROUP BY service ORDER BY service"""))
    return {row.service: "running" if row.online else "stopped" for row in rows}


async def format_available(conn: AsyncConnection, service: str, fmt: str) -> bool:
    """Is an online instance of `service` advertising output format `fmt`?"""
    return bool(await conn.scalar(text(
        """SELECT EXISTS (SELECT 1 FROM instances WHERE service = :service
            AND status = 'online' AND capabilities -> 'formats' ? :fmt)"""),
        {"service": service, "fmt": fmt}))


async def instance_list(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every instance the registry knows, by service then name, with its last heartbeat."""
    rows = await conn.execute(text(
        """SELECT id, service, name, host, status, capabilities, interval_s, started_at,
                  last_seen FROM instances ORDER BY service, name"""))
    return [dict(row._mapping) for row in rows]


async def tenant_id(conn: AsyncConnection, name: str) -> str | None:
    found = await conn.scalar(text("SELECT id FROM tenants WHERE name = :name"), {"name": name})
    return None if found is None else str(found)
