"""`GET /api/v2/health` in seed 000's shape, honest: `unhealthy` (503) when this gateway cannot
reach PostgreSQL, RabbitMQ or S3 (it cannot serve), `degraded` (200: it serves, but not
everything works) when the scheduler or the registry is not running or a service that has run
has no instance online, `healthy` (200) otherwise. Each service's state comes from the
registry's view of heartbeats, so "is a scheduler running?" has one answer everywhere; the
dependencies' from this process's readiness checks (libs/observability/probes.py)."""

from typing import Any

import msgspec
from litestar import Response, get, put
from litestar.openapi import ResponseSpec

from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, iso_now
from services.gateway.health.presenters import instance_view, limits_view, share_view
from services.gateway.health.schemas import (
    HealthResponse,
    InstancesResponse,
    SharesResponse,
    TenantLimitsChange,
    TenantLimitsView,
)
from services.gateway.health.service import HealthService
from services.gateway.openapi import PUBLIC, documented
from services.gateway.settings import GatewaySettings


@get("/api/v2/health", tags=["health"], summary="Cluster health (no auth)", security=PUBLIC,
     responses=documented(HealthResponse, public=True,
                          also={503: ResponseSpec(HealthResponse, generate_examples=False,
                                                  description="The database is unreachable")}))
async def health(health_service: HealthService) -> Response[dict[str, Any]]:
    readiness = await health_service.readiness()
    dependencies = {name: "running" if outcome == "ok" else "unreachable"
                    for name, outcome in readiness.checks.items()}
    if not readiness.ready:
        return Response({"status": "unhealthy", "timestamp": iso_now(),
                         "services": dependencies,
                         "error": "; ".join(f"{name}: {outcome}" for name, outcome
                                            in readiness.checks.items() if outcome != "ok")},
                        status_code=503)
    services = await health_service.service_states()
    # The gateway answering is itself the proof that these two are up: they live in it.
    services.update(gateway="running", templateManager="running", websocketServer="running")
    healthy = all(state == "running" for state in services.values())
    services.update(dependencies)
    return Response({"status": "healthy" if healthy else "degraded", "timestamp": iso_now(),
                     "services": services})


@get("/api/v2/health/instances", tags=["health"],
     summary="Every service instance the registry knows, with its state and last heartbeat",
     responses=documented(InstancesResponse))
async def health_instances(health_service: HealthService,
                           principal: Principal) -> dict[str, Any]:
    rows = await health_service.instances()
    return {"timestamp": iso_now(), "instances": [instance_view(row) for row in rows]}


@get("/api/v2/health/shares", tags=["health"],
     summary="Each tenant's share of each kind's workers now (fair share); the operator's "
             "admins see every tenant, others their own tenant only",
     responses=documented(SharesResponse))
async def health_shares(health_service: HealthService, principal: Principal,
                        settings: GatewaySettings) -> dict[str, Any]:
    operator = principal.is_admin and principal.tenant_name == settings.operator_tenant
    rows = await health_service.tenant_shares(None if operator else principal.tenant_id)
    return {"timestamp": iso_now(), "shares": [share_view(row) for row in rows]}


def _operator_only(principal: Principal, settings: GatewaySettings) -> None:
    if not (principal.is_admin and principal.tenant_name == settings.operator_tenant):
        raise ApiError(403, "FORBIDDEN", "only the operator's admins manage tenant limits")


@get("/api/v2/health/tenants/{tenant:str}/limits", tags=["health"],
     summary="A tenant's fair-share weight and limits in force (operator admins)",
     responses=documented(TenantLimitsView, errors=(403, 404)))
async def get_tenant_limits(tenant: str, health_service: HealthService, principal: Principal,
                            settings: GatewaySettings) -> dict[str, Any]:
    _operator_only(principal, settings)
    return limits_view(tenant, await health_service.tenant_limits(tenant))


@put("/api/v2/health/tenants/{tenant:str}/limits", tags=["health"],
     summary="Set a tenant's fair-share weight and limits (operator admins; 0: default)",
     responses=documented(TenantLimitsView, errors=(400, 403, 404)))
async def put_tenant_limits(tenant: str, data: TenantLimitsChange,
                            health_service: HealthService, principal: Principal,
                            settings: GatewaySettings) -> dict[str, Any]:
    _operator_only(principal, settings)
    changes: dict[str, int | None] = {
        name: value or None for name, value in msgspec.structs.asdict(data).items()
        if value is not None}
    return limits_view(tenant, await health_service.tenant_limits(tenant, changes))


HEALTH_HANDLERS = [health, health_instances, health_shares, get_tenant_limits,
                   put_tenant_limits]
