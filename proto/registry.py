"""Instance heartbeats: every service process announces itself to the registry."""

from datetime import datetime
from typing import Any

import msgspec


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True, tag="heartbeat"):
    instance_id: str
    service: str
    name: str
    host: str
    pid: int
    started_at: datetime
    # What the instance can do: work routes it consumes, output formats, workflows, batch size.
    capabilities: dict[str, Any] = {}
    stopping: bool = False
    interval_s: float = 5.0
