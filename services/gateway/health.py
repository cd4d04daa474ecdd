"""`GET /api/v2/health` in seed 000's shape; each service's state comes from the registry's
view of heartbeats, so "is a scheduler running?" has one answer everywhere."""

from typing import Any, Literal

import msgspec
from litestar import Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.errors import iso_now
from services.gateway.instances import service_states
from services.gateway.openapi import PUBLIC, documented

REQUIRED = ("scheduler", "registry")


class HealthResponse(msgspec.Struct, omit_defaults=True):
    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: str
    # Each service's state (running, stopped, unreachable), by name; seed 000 reads
    # scheduler, templateManager and websocketServer.
    services: dict[str, str]
    error: str | None = None  # why, when unhealthy


@get("/api/v2/health", tags=["health"], summary="Cluster health (no auth)", security=PUBLIC,
     responses=documented(HealthResponse, public=True,
                          also={503: ResponseSpec(HealthResponse, generate_examples=False,
                                                  description="The database is unreachable")}))
async def health(db: AsyncEngine) -> Response[dict[str, Any]]:
    try:
        async with db.connect() as conn:
            states = await service_states(conn)
    except Exception as exc:
        return Response({"status": "unhealthy", "timestamp": iso_now(),
                         "services": {"database": "unreachable"}, "error": str(exc)},
                        status_code=503)
    services = {name: states.get(name, "stopped") for name in REQUIRED}
    services.update(states)
    # The gateway answering is itself the proof that these two are up: they live in it.
    services.update(gateway="running", templateManager="running", websocketServer="running")
    healthy = all(services[name] == "running" for name in REQUIRED)
    return Response({"status": "healthy" if healthy else "degraded", "timestamp": iso_now(),
                     "services": services})
