"""Tenants, users and tokens: the gateway's own tables."""

import hashlib
import secrets

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

TOKEN_PREFIX = "cvr_"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: every query is scoped by this."""

    user_id: str
    user_name: str
    tenant_id: str
    tenant_name: str
    is_admin: bool

    @property
    def owner_filter(self) -> str | None:
        """Task lists and lookups: an admin sees the tenant's tasks, a member only their own."""
        return None if self.is_admin else self.user_id


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def principal_for_token(conn: AsyncConnection, token: str) -> Principal | None:
    row = (
        await conn.execute(
            text(
                """SELECT u.id AS user_id, u.name AS user_name, t.id AS tenant_id,
                    t.name AS tenant_name, u.is_admin
                FROM api_tokens k JOIN users u ON u.id = k.user_id
                JOIN tenants t ON t.id = u.tenant_id
                WHERE k.token_hash = :hash AND k.revoked_at IS NULL"""
            ),
            {"hash": token_hash(token)},
        )
    ).one_or_none()
    if row is None:
        return None
    return Principal(user_id=str(row.user_id), user_name=row.user_name,
                     tenant_id=str(row.tenant_id), tenant_name=row.tenant_name,
                     is_admin=row.is_admin)


async def ensure_user(conn: AsyncConnection, tenant: str, user: str, *, is_admin: bool) -> str:
    """Create the tenant and user if missing; return the user id."""
    tenant_id = await conn.scalar(
        text("""INSERT INTO tenants (name) VALUES (:name)
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"""),
        {"name": tenant},
    )
    user_id = await conn.scalar(
        text("""INSERT INTO users (tenant_id, name, is_admin) VALUES (:tenant_id, :name, :admin)
            ON CONFLICT (tenant_id, name) DO UPDATE SET is_admin = EXCLUDED.is_admin
            RETURNING id"""),
        {"tenant_id": tenant_id, "name": user, "admin": is_admin},
    )
    return str(user_id)


async def issue_token(conn: AsyncConnection, user_id: str) -> str:
    token = new_token()
    await conn.execute(
        text("INSERT INTO api_tokens (token_hash, user_id) VALUES (:hash, :user_id)"),
        {"hash": token_hash(token), "user_id": user_id},
    )
    return token


async def revoke_token(conn: AsyncConnection, token: str) -> bool:
    result = await conn.execute(
        text("""UPDATE api_tokens SET revoked_at = now()
            WHERE token_hash = :hash AND revoked_at IS NULL RETURNING 1"""),
        {"hash": token_hash(token)},
    )
    return result.first() is not None


async def tenant_id(conn: AsyncConnection, tenant: str) -> str | None:
    found = await conn.scalar(text("SELECT id FROM tenants WHERE name = :name"), {"name": tenant})
    return None if found is None else str(found)
