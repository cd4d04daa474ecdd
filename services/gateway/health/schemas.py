"""Response bodies of the health routes."""

from typing import Annotated, Any, Literal

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


class TenantLimitsView(msgspec.Struct, rename="camel"):
    tenant: str
    weight: int
    max_running_items: int | None  # per kind; None: no limit
    max_running_tasks: int | None
    tasks_per_hour: int | None


Weight = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class TenantLimitsChange(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Only the fields given change; 0 puts one back to the settings' default."""

    weight: Weight | None = None
    max_running_items: Count | None = None
    max_running_tasks: Count | None = None
    tasks_per_hour: Count | None = None
