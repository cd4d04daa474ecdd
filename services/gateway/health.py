"""`GET /api/v2/health` in seed 000's shape, honest: `unhealthy` (503) when this gateway cannot
reach PostgreSQL, RabbitMQ or S3 (it cannot serve), `degraded` (200: it serves, but not
everything works) when the scheduler or the registry is not running or a service that has run
has no instance online, `healthy` (200) otherwise. Each service's state comes from the
registry's view of heartbeats, so "is a scheduler running?" has one answer everywhere; the
dependencies' from this process's readiness checks (libs/observability/probes.py)."""

from typing import Any

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.observability.probes import PROBES
from services.gateway.errors import iso_now
from services.gateway.instances import service_states

REQUIRED = ("scheduler", "registry")


@get("/api/v2/health", tags=["health"], summary="Cluster health (no auth)")
async def health(db: AsyncEngine) -> Response[dict[str, Any]]:
    readiness = await PROBES.readiness()
    dependencies = {name: "running" if outcome == "ok" else "unreachable"
                    for name, outcome in readiness.checks.items()}
    if not readiness.ready:
        return Response({"status": "unhealthy", "timestamp": iso_now(),
                         "services": dependencies,
                         "error": "; ".join(f"{name}: {outcome}" for name, outcome
                                            in readiness.checks.items() if outcome != "ok")},
                        status_code=503)
    async with db.connect() as conn:
        states = await service_states(conn)
    services = {name: states.get(name, "stopped") for name in REQUIRED}
    services.update(states)
    # The gateway answering is itself the proof that these two are up: they live in it.
    services.update(gateway="running", templateManager="running", websocketServer="running")
    healthy = all(state == "running" for state in services.values())
    services.update(dependencies)
    return Response({"status": "healthy" if healthy else "degraded", "timestamp": iso_now(),
                     "services": services})
