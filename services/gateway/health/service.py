"""Health: this process's readiness (PostgreSQL, RabbitMQ, S3) and each service's state from
the registry's view of heartbeats, so "is a scheduler running?" has one answer everywhere."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.observability.probes import PROBES, Readiness
from libs.tasks import limits, stats
from libs.tasks.limits import TenantDefaults, TenantLimits
from services.gateway.errors import ApiError
from services.gateway.health import repository as repo

REQUIRED = ("scheduler", "registry")


class HealthService:
    def __init__(self, db: AsyncEngine, defaults: TenantDefaults | None = None) -> None:
        self._db = db
        self._defaults = defaults or TenantDefaults()

    @staticmethod
    async def readiness() -> Readiness:
        return await PROBES.readiness()

    async def service_states(self) -> dict[str, str]:
        """Every service's state (running or stopped), the required ones included."""
        async with self._db.connect() as conn:
            states = await repo.service_states(conn)
        services = {name: states.get(name, "stopped") for name in REQUIRED}
        services.update(states)
        return services

    async def instances(self) -> list[dict[str, Any]]:
        async with self._db.connect() as conn:
            return await repo.instance_list(conn)

    async def tenant_shares(self, tenant_id: str | None) -> list[stats.TenantShare]:
        """Each tenant's share of each kind now; only `tenant_id`'s rows unless None (the
        operator sees every tenant, a tenant only itself)."""
        async with self._db.connect() as conn:
            rows = await stats.tenant_shares(conn, self._defaults.weight)
        return [row for row in rows if tenant_id is None or row.tenant_id == tenant_id]

    async def tenant_limits(self, tenant: str,
                            changes: dict[str, int | None] | None = None) -> TenantLimits:
        """A tenant's limits in force, after applying `changes` (None: back to the default);
        ApiError 404 for an unknown tenant."""
        async with self._db.begin() as conn:
            found = await repo.tenant_id(conn, tenant)
            if found is None:
                raise ApiError(404, "TENANT_NOT_FOUND", f"tenant {tenant} does not exist")
            if changes:
                await limits.set_limits(conn, found, changes)
            return await limits.effective(conn, found, self._defaults)

