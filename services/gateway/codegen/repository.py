"""The code-generation API's reads: a stored AppSpec (scoped by the caller's tenant, and user
for non-admins) and the stages of a page of tasks (through `libs.tasks.stages`)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import stages
from libs.tasks.model import Stage
from services.gateway.auth.repository import Principal


async def app_spec(conn: AsyncConnection, principal: Principal,
                   spec_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(
        text("""SELECT id, task_id, version, spec, created_at FROM codegen_app_specs
            WHERE id = CAST(:id AS uuid) AND tenant_id = :tenant_id
              AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))"""),
        {"id": spec_id, "tenant_id": principal.tenant_id, "user_id": principal.owner_filter},
    )).one_or_none()
    return dict(row._mapping) if row else None


async def stages_of(conn: AsyncConnection, task_ids: Sequence[str]) -> dict[str, list[Stage]]:
    return await stages.stages_of(conn, task_ids)
