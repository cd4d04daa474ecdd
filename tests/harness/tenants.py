"""A tenant of a test's own, with one user, written straight to the database (for tests below
the API). Names are unique, so a test owns its tenant whatever ran before it."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def new_tenant(conn: AsyncConnection, label: str) -> tuple[str, str]:
    """(tenant id, user id) of a new tenant named `<label>-<random>` and its user `u`."""
    tenant = await conn.scalar(text("INSERT INTO tenants (name) VALUES (:n) RETURNING id"),
                               {"n": f"{label}-{uuid.uuid4().hex[:8]}"})
    user = await conn.scalar(
        text("INSERT INTO users (tenant_id, name) VALUES (:t, 'u') RETURNING id"), {"t": tenant})
    return str(tenant), str(user)
