"""Response bodies of the health routes."""

from typing import Literal

import msgspec


class HealthResponse(msgspec.Struct, omit_defaults=True):
    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: str
    # Each service's state (running, stopped, unreachable), by name; seed 000 reads
    # scheduler, templateManager and websocketServer.
    services: dict[str, str]
    error: str | None = None  # why, when unhealthy
