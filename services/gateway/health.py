"""`GET /api/v2/health` in seed 000's shape; each service's state comes from the registry's
view of heartbeats, so "is a scheduler running?" has one answer everywhere."""

from typing import Any

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.auth.repository import Principal
from services.gateway.errors import iso_now
from services.gateway.instances import instance_list, service_states
from services.gateway.tasks.presenters import iso

REQUIRED = ("scheduler", "registry")


@get("/api/v2/health", tags=["health"], summary="Cluster health (no auth)")
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


@get("/api/v2/health/instances", tags=["health"],
     summary="Every service instance the registry knows, with its state and last heartbeat")
async def health_instances(db: AsyncEngine, principal: Principal) -> dict[str, Any]:
    async with db.connect() as conn:
        rows = await instance_list(conn)
    instances = [{
        "id": row["id"], "service": row["service"], "name": row["name"], "host": row["host"],
        "status": row["status"], "capabilities": row["capabilities"],
        "heartbeatIntervalSeconds": row["interval_s"], "startedAt": iso(row["started_at"]),
        "lastSeen": iso(row["last_seen"]),
    } for row in rows]
    return {"timestamp": iso_now(), "instances": instances}
