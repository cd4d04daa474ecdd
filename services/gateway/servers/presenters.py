"""Servers and batch tasks in seed 004's shapes (plain JSON, snake_case). Fields beyond the
seed's come after them and only add detail."""

from typing import Any

from libs.servers.model import Server, ServerStatus, ServerType
from libs.tasks.model import Task, TaskStatus
from services.gateway.auth.repository import Principal
from services.gateway.servers.planner import visible_task
from services.gateway.tasks.presenters import iso, queue_view

# The seed knows pending, running, completed and failed; the engine's status stays readable
# in `engine_status`.
SEED_STATUS = {
    TaskStatus.PENDING: "pending",
    TaskStatus.RUNNING: "running",
    TaskStatus.PAUSED: "running",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.PARTIAL_SUCCESS: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "failed",
}


def server_view(server: Server, principal: Principal) -> dict[str, Any]:
    return {
        "name": server.name,
        "url": server.url,
        "type": server.type.value,
        "enabled": server.enabled,
        "batch_size": server.batch_size,
        "status": server.status.value,
        "current_task_id": visible_task(server, principal),
        "busy": server.current_task_id is not None,
        "workflows": sorted(server.workflows),
        "error": server.problem if server.status != ServerStatus.ONLINE else None,
        "checked_at": iso(server.checked_at),
        "self_registered": server.auto,
        # local operator servers run everyone's batches without being marked
        "shared": server.shared or (server.owner_tenant_id is None
                                    and server.type == ServerType.LOCAL),
    }


def _message(task: Task) -> str:
    match task.status:
        case TaskStatus.PENDING:
            return "批处理任务等待开始"
        case TaskStatus.RUNNING:
            return "任务正在处理中" + (f"：{task.current_step}" if task.current_step else "")
        case TaskStatus.PAUSED:
            return "任务已暂停"
        case TaskStatus.COMPLETED:
            return f"任务已完成，共处理 {task.done} 个文件"
        case TaskStatus.PARTIAL_SUCCESS:
            return f"任务已完成：{task.done} 个文件成功，{task.failed} 个失败"
        case TaskStatus.CANCELLED:
            return "任务已取消"
        case _:
            return f"任务失败：{task.error_message or f'{task.failed} 个文件失败'}"


def batch_task_view(task: Task, position: int | None = None) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "status": SEED_STATUS[task.status],
        "message": _message(task),
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "progress": round(task.progress / 100, 4),
        "server_name": task.params.get("server"),
        "engine_status": task.status.value,
        "workflow_name": task.params.get("workflow", {}).get("name"),
        "total_files": task.total,
        "processed_files": task.done,
        "failed_files": task.failed,
        "current_step": task.current_step,
        "output_root": task.params.get("output_root"),
        "batch_size": task.concurrency,
        # After seed 004's fields, in its order: why a task still waits, when it does.
        "queue": queue_view(task, position, snake=True),
    }
