"""Response bodies of the health routes."""

from typing import Any, Literal

import msgspec


class HealthResponse(msgspec.Struct, omit_defaults=True):
    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: str
    # Each service's state (running, stopped, unreachable), by name; seed 000 reads
    # scheduler, templateManager and websocketServer.
    services: dict[str, str]
    error: str | None = None  # why, when unhealthy


class InstanceView(msgspec.Struct, rename="camel"):
    id: str
    service: str
    name: str
    host: str
    status: str  # online, or offline (stopped, or its heartbeats stopped coming)
    capabilities: dict[str, Any]  # what the instance advertises (formats, renderers, routes)
    heartbeat_interval_seconds: float
    started_at: str
    last_seen: str


class InstancesResponse(msgspec.Struct):
    timestamp: str
    instances: list[InstanceView]
