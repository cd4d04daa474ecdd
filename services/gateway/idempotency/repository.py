"""SQL of `idempotency_keys` (migration i11_0001). Functions take a connection and never
commit: the caller's transaction decides."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

TTL = "24 hours"  # how long a key is remembered (the usual convention, e.g. Stripe's)


@dataclass(frozen=True, slots=True)
class Claim:
    """Who sent a key: what the creation point records its resource under."""

    user_id: str
    key: str


@dataclass(frozen=True, slots=True)
class Remembered:
    fingerprint: str
    age_s: float
    resource_id: str | None
    status_code: int | None
    content_type: str | None
    response: bytes | None


async def claim(conn: AsyncConnection, owner: Claim, fingerprint: str) -> Remembered | None:
    """Claim the key for a new request (None), or return what an earlier one left. A key
    older than the TTL is forgotten and claimed afresh."""
    await conn.execute(text(
        f"""DELETE FROM idempotency_keys WHERE user_id = :user_id AND key = :key
        AND created_at < now() - interval '{TTL}'"""), {"user_id": owner.user_id,
                                                        "key": owner.key})
    inserted = await conn.scalar(text(
        """INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES (:user_id, :key, :fp)
        ON CONFLICT (user_id, key) DO NOTHING RETURNING 1"""),
        {"user_id": owner.user_id, "key": owner.key, "fp": fingerprint})
    if inserted:
        return None
    # A claim made before PostgreSQL last started belongs to a request that met the restart:
    # it either recorded its task (resource_id set, found by the creation point) or failed
    # and could not release the key while the database was down. The same request again
    # takes the key over instead of waiting out IN_PROGRESS_S.
    reclaimed = await conn.scalar(text(
        """UPDATE idempotency_keys SET created_at = now()
        WHERE user_id = :user_id AND key = :key AND fingerprint = :fp
        AND resource_id IS NULL AND status_code IS NULL
        AND created_at < pg_postmaster_start_time() RETURNING 1"""),
        {"user_id": owner.user_id, "key": owner.key, "fp": fingerprint})
    if reclaimed:
        return None
    row = (await conn.execute(text(
        """SELECT fingerprint, extract(epoch FROM now() - created_at) AS age_s, resource_id,
            status_code, content_type, response
        FROM idempotency_keys WHERE user_id = :user_id AND key = :key"""),
        {"user_id": owner.user_id, "key": owner.key})).one()
    return Remembered(row.fingerprint, float(row.age_s), row.resource_id, row.status_code,
                      row.content_type, bytes(row.response) if row.response else None)


async def locked_resource(conn: AsyncConnection, owner: Claim) -> str | None:
    """The resource created under the key, waiting for a concurrent creation to commit."""
    resource: str | None = await conn.scalar(text(
        """SELECT resource_id FROM idempotency_keys WHERE user_id = :user_id AND key = :key
        FOR UPDATE"""), {"user_id": owner.user_id, "key": owner.key})
    return resource


async def record_resource(conn: AsyncConnection, owner: Claim, resource_id: str) -> None:
    await conn.execute(text(
        """UPDATE idempotency_keys SET resource_id = :resource
        WHERE user_id = :user_id AND key = :key"""),
        {"user_id": owner.user_id, "key": owner.key, "resource": resource_id})


async def record_response(conn: AsyncConnection, owner: Claim, status_code: int,
                          content_type: str, response: bytes) -> None:
    await conn.execute(text(
        """UPDATE idempotency_keys SET status_code = :status, content_type = :type,
            response = :response WHERE user_id = :user_id AND key = :key"""),
        {"user_id": owner.user_id, "key": owner.key, "status": status_code,
         "type": content_type, "response": response})


async def release(conn: AsyncConnection, owner: Claim) -> None:
    """Forget a key whose request created nothing (refused, failed): it may be sent again."""
    await conn.execute(text(
        """DELETE FROM idempotency_keys WHERE user_id = :user_id AND key = :key
        AND resource_id IS NULL AND status_code IS NULL"""),
        {"user_id": owner.user_id, "key": owner.key})


async def forget_expired(conn: AsyncConnection, limit: int = 500) -> int:
    """Drop up to `limit` keys past the TTL (called now and then by new claims)."""
    result = await conn.execute(text(
        f"""DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys
        WHERE created_at < now() - interval '{TTL}' LIMIT :limit)"""), {"limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)
