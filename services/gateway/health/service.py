"""Health: this process's readiness (PostgreSQL, RabbitMQ, S3) and each service's state from
the registry's view of heartbeats, so "is a scheduler running?" has one answer everywhere."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.observability.probes import PROBES, Readiness
from services.gateway.health import repository as repo

REQUIRED = ("scheduler", "registry")


class HealthService:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

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
