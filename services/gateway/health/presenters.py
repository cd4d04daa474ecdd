"""Registry rows -> the health routes' JSON."""

from typing import Any

from services.gateway.tasks.presenters import iso


def instance_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "service": row["service"], "name": row["name"], "host": row["host"],
        "status": row["status"], "capabilities": row["capabilities"],
        "heartbeatIntervalSeconds": row["interval_s"], "startedAt": iso(row["started_at"]),
        "lastSeen": iso(row["last_seen"]),
    }
