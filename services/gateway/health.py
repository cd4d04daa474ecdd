"""`GET /api/v2/health` in seed 000's shape, honest: `unhealthy` (503) when this gateway cannot
reach PostgreSQL, RabbitMQ or S3 (it cannot serve), `degraded` (200: it serves, but not
everything works) when the scheduler or the registry is not running or a service that has run
has no instance online, `healthy` (200) otherwise. Each service's state comes from the
registry's view of heartbeats, so "is a scheduler running?" has one answer everywhere; the
dependencies' from this process's readiness checks (libs/observability/probes.py)."""

from typing import Any, Literal

import msgspec
from litestar import Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.observability.probes import PROBES
from services.gateway.auth.repository import Principal
from services.gateway.errors import iso_now
from services.gateway.instances import instance_list, service_states
from services.gateway.openapi import PUBLIC, documented
from services.gateway.tasks.presenters import iso

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
