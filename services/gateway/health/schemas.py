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


class TenantShareView(msgspec.Struct, rename="camel"):
    tenant: str
    kind: str
    running_tasks: int
    waiting_tasks: int  # running tasks with items to start and none allowed to start yet
    queued_items: int  # waiting in PostgreSQL for the kind's credit
    inflight_items: int  # dispatched within the credit, or being worked on
    share: float  # part of the kind's items in flight, 0-1
    weight: int


class SharesResponse(msgspec.Struct):
    timestamp: str
    shares: list[TenantShareView]
