"""Loads what a route acts on, scoped by the caller's tenant; anything else is a 404.

Knowledge bases belong to a tenant, not a user: every member sees its documents and its sync
tasks (a member who gets 7002 can look up the running task it names)."""

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks import readers
from libs.tasks.kinds import KB_SYNC
from libs.tasks.model import Task
from services.gateway.auth.repository import Principal
from services.gateway.kb import errors, ids
from services.gateway.kb import repository as repo


async def load_kb(conn: AsyncConnection, principal: Principal, kb_id: str) -> repo.KnowledgeBase:
    raw = ids.parse(ids.KB, kb_id)
    kb = await repo.get_kb(conn, principal.tenant_id, raw) if raw else None
    if kb is None:
        raise errors.kb_not_found(kb_id)
    return kb


async def load_sync_task(conn: AsyncConnection, principal: Principal, task_id: str) -> Task:
    raw = ids.parse(ids.TASK, task_id)
    task = await readers.get_task(conn, raw, tenant_id=principal.tenant_id) if raw else None
    if task is None or task.kind != KB_SYNC.name:
        raise errors.sync_task_not_found(task_id)
    return task


def exclusivity_key(kb_id: str) -> str:
    """One unfinished sync per knowledge base (seed 003's 7002), enforced by the task tables."""
    return f"kb:{kb_id}"
