"""Per-tenant limits an operator sets: the tenant's weight in fair share, how many of its items
may run at once on one kind, how many of its tasks may be unfinished, and how many tasks it
may create per hour. Defaults come from settings (`CONVEYOR_TENANT_*`); a `tenant_limits` row
overrides them per tenant (NULL keeps the default). Creating past a limit raises
`TenantLimitExceeded`, which every API answers with 429 and Retry-After."""

from dataclasses import dataclass

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.tasks.model import UNFINISHED
from libs.tasks.transitions import sql_states

# How long a client told "too many unfinished tasks" waits before trying again: one of them
# has to end first, which is not known in advance.
UNFINISHED_RETRY_AFTER_S = 30


@dataclass(frozen=True, slots=True)
class TenantDefaults:
    weight: int = 1
    max_running_items: int | None = None
    max_running_tasks: int | None = None
    tasks_per_hour: int | None = None

    @classmethod
    def from_settings(cls, weight: int, max_running_items: int, max_running_tasks: int,
                      tasks_per_hour: int) -> "TenantDefaults":
        """Settings say 0 for "no limit"."""
        return cls(weight=max(1, weight), max_running_items=max_running_items or None,
                   max_running_tasks=max_running_tasks or None,
                   tasks_per_hour=tasks_per_hour or None)


class TenantLimits(msgspec.Struct, kw_only=True):
    """A tenant's limits in force (its overrides over the defaults)."""

    weight: int
    max_running_items: int | None
    max_running_tasks: int | None
    tasks_per_hour: int | None


class TenantLimitExceeded(Exception):
    def __init__(self, limit: str, allowed: int, retry_after_s: int) -> None:
        super().__init__(f"tenant limit reached: {limit} ({allowed})")
        self.limit = limit  # max_running_tasks | tasks_per_hour
        self.allowed = allowed
        self.retry_after_s = max(1, retry_after_s)


_FIELDS = ("weight", "max_running_items", "max_running_tasks", "tasks_per_hour")


async def effective(conn: AsyncConnection, tenant_id: str,
                    defaults: TenantDefaults) -> TenantLimits:
    row = (await conn.execute(
        text(f"SELECT {', '.join(_FIELDS)} FROM tenant_limits WHERE tenant_id = :tenant"),
        {"tenant": tenant_id})).one_or_none()
    values = {name: getattr(defaults, name) for name in _FIELDS}
    if row is not None:
        values.update({name: getattr(row, name) for name in _FIELDS
                       if getattr(row, name) is not None})
    return TenantLimits(**values)


async def set_limits(conn: AsyncConnection, tenant_id: str, changes: dict[str, int | None]
                     ) -> None:
    """Upsert the given fields (None: back to the default)."""
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValueError(f"unknown limits: {sorted(unknown)}")
    names = list(changes)
    await conn.execute(
        text(f"""INSERT INTO tenant_limits (tenant_id{''.join(', ' + n for n in names)})
            VALUES (:tenant{''.join(', :' + n for n in names)})
            ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now()
            {''.join(f', {n} = EXCLUDED.{n}' for n in names)}"""),
        {"tenant": tenant_id, **changes},
    )


async def check_create(conn: AsyncConnection, tenant_id: str, defaults: TenantDefaults) -> None:
    """Raise `TenantLimitExceeded` if the tenant may not create a task now. Creates of one
    tenant are serialised (a transaction-scoped lock) only when it has a limit to count
    against, so two concurrent creates cannot both take the last place."""
    limits = await effective(conn, tenant_id, defaults)
    if limits.max_running_tasks is None and limits.tasks_per_hour is None:
        return
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('conveyor.create'), "
                            "hashtext(:tenant))"), {"tenant": tenant_id})
    if limits.max_running_tasks is not None:
        unfinished = await conn.scalar(text(
            f"""SELECT count(*) FROM tasks WHERE tenant_id = :tenant
                AND status IN {sql_states(UNFINISHED)}"""), {"tenant": tenant_id})
        if int(unfinished or 0) >= limits.max_running_tasks:
            raise TenantLimitExceeded("max_running_tasks", limits.max_running_tasks,
                                      UNFINISHED_RETRY_AFTER_S)
    if limits.tasks_per_hour is not None:
        # The creation that has to leave the last hour before another fits in it.
        oldest = await conn.scalar(text(
            """SELECT extract(epoch FROM created_at + interval '1 hour' - now()) FROM tasks
            WHERE tenant_id = :tenant AND created_at > now() - interval '1 hour'
            ORDER BY created_at DESC OFFSET :n - 1 LIMIT 1"""),
            {"tenant": tenant_id, "n": limits.tasks_per_hour})
        if oldest is not None:
            raise TenantLimitExceeded("tasks_per_hour", limits.tasks_per_hour,
                                      int(float(oldest)) + 1)
