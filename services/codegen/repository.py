"""All of the codegen service's own SQL: stored app specs and the hourly AI-call counter.
Functions take a connection and never commit."""

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from proto.codegen import AppSpec


async def save_spec(conn: AsyncConnection, *, spec_id: str, task_id: str, tenant_id: str,
                    user_id: str, spec: AppSpec) -> None:
    """Store the task's spec as `spec_id` (replacing one an earlier attempt stored)."""
    await conn.execute(
        text("""INSERT INTO codegen_app_specs (id, task_id, tenant_id, user_id, version, spec)
            VALUES (:id, :task_id, :tenant_id, :user_id, :version, CAST(:spec AS jsonb))
            ON CONFLICT (task_id) DO UPDATE SET id = EXCLUDED.id, spec = EXCLUDED.spec,
                version = EXCLUDED.version, created_at = now()"""),
        {"id": spec_id, "task_id": task_id, "tenant_id": tenant_id,
         "user_id": user_id, "version": spec.version,
         "spec": msgspec.json.encode(spec).decode()},
    )


async def count_call(conn: AsyncConnection, user_id: str, limit: int) -> int | None:
    """Count one AI call of `user_id` in the current clock hour; None when the hour's `limit`
    is spent already (nothing counted). Earlier hours' rows of the user go."""
    await conn.execute(
        text("""DELETE FROM codegen_ai_calls WHERE user_id = :user_id
            AND window_start < date_trunc('hour', now())"""), {"user_id": user_id})
    calls = await conn.scalar(
        text("""INSERT INTO codegen_ai_calls (user_id, window_start, calls)
            VALUES (:user_id, date_trunc('hour', now()), 1)
            ON CONFLICT (user_id, window_start) DO UPDATE
                SET calls = codegen_ai_calls.calls + 1 WHERE codegen_ai_calls.calls < :limit
            RETURNING calls"""),
        {"user_id": user_id, "limit": limit},
    )
    return None if calls is None else int(calls)
