"""Registry rows -> the health routes' JSON."""

from typing import Any

from libs.tasks.limits import TenantLimits
from libs.tasks.stats import TenantShare
from services.gateway.tasks.presenters import iso


def instance_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "service": row["service"], "name": row["name"], "host": row["host"],
        "status": row["status"], "capabilities": row["capabilities"],
        "heartbeatIntervalSeconds": row["interval_s"], "startedAt": iso(row["started_at"]),
        "lastSeen": iso(row["last_seen"]),
    }


def share_view(row: TenantShare) -> dict[str, Any]:
    return {"tenant": row.tenant, "kind": row.kind, "runningTasks": row.tasks,
            "waitingTasks": row.waiting_tasks, "queuedItems": row.queued,
            "inflightItems": row.inflight, "share": round(row.share, 3), "weight": row.weight}


def limits_view(tenant: str, found: TenantLimits) -> dict[str, Any]:
    return {"tenant": tenant, "weight": found.weight,
            "maxRunningItems": found.max_running_items,
            "maxRunningTasks": found.max_running_tasks, "tasksPerHour": found.tasks_per_hour}
