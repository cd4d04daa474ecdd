"""Read models -> the document-batch API's shapes: its success envelope, batches, their
progress, templates and data sources."""

import time
from typing import Any

from litestar import Request

from libs.tasks.model import Task, TaskStatus
from services.gateway.documents.repository import DataSource, Template
from services.gateway.errors import iso_now
from services.gateway.tasks.presenters import iso, queue_view

API_VERSION = "2.0.0"


def ok(request: Request[Any, Any, Any], data: Any) -> dict[str, Any]:
    """The success envelope: `{"success": true, "data": ..., "meta": {...}}`."""
    started = request.state.get("started", time.perf_counter())
    return {
        "success": True,
        "data": data,
        "meta": {
            "requestId": request.state.get("request_id"),
            "timestamp": iso_now(),
            "version": API_VERSION,
            "executionTime": round((time.perf_counter() - started) * 1000),
        },
    }


def template_view(template: Template) -> dict[str, Any]:
    return {"templateId": template.id, "templateName": template.name,
            "filename": template.filename, "size": template.size_bytes,
            "fields": template.fields, "createdAt": iso(template.created_at),
            "renderer": template.renderer, "rendererReason": template.renderer_reason,
            "pdfMode": template.pdf_mode, "pdfModeReason": template.pdf_mode_reason}


def data_source_view(source: DataSource) -> dict[str, Any]:
    return {"dataSourceId": source.id, "name": source.name, "format": source.format,
            "rowCount": source.row_count, "columns": source.columns,
            "createdAt": iso(source.created_at)}


def command_view(task: Task, at_field: str) -> dict[str, Any]:
    """The answer to start / pause / resume: the batch, its status and when it changed."""
    at = {"startedAt": task.started_at, "pausedAt": task.paused_at,
          "resumedAt": task.updated_at}[at_field]
    return {"taskId": task.id, "status": task.status.value, at_field: iso(at)}


def cancelled_view(task: Task) -> dict[str, Any]:
    return {"taskId": task.id, "status": task.status.value,
            "cancelledAt": iso(task.completed_at), "completedDocuments": task.done,
            "message": f"任务已取消，已生成{task.done}个文档"}

STEP = {
    "pending": "等待启动",
    "running": "生成文档中",
    "paused": "已暂停",
    "completed": "已完成",
    "partial_success": "已完成（部分失败）",
    "failed": "生成失败",
    "cancelled": "已取消",
}


def current_step(task: Task) -> str:
    if task.status == TaskStatus.RUNNING and task.finalize_state == "running":
        return "打包ZIP中"
    return STEP[task.status.value]


def _group_status(task: Task, counts: dict[str, int], total: int) -> str:
    settled = counts.get("done", 0) + counts.get("failed", 0)
    if settled + counts.get("cancelled", 0) >= total:
        if counts.get("cancelled"):
            return "cancelled"
        return "failed" if counts.get("done", 0) == 0 else "completed"
    if task.status == TaskStatus.PAUSED:
        return "paused"
    return "processing" if settled or counts.get("processing") else "pending"


def progress_view(task: Task, templates: dict[str, dict[str, Any]],
                  counts: dict[str, dict[str, int]], position: int | None = None
                  ) -> dict[str, Any]:
    groups = []
    current = None
    for template_id, template in templates.items():
        by_status = counts.get(template_id, {})
        total = sum(by_status.values())
        done, failed = by_status.get("done", 0), by_status.get("failed", 0)
        status = _group_status(task, by_status, total)
        groups.append({
            "templateId": template_id,
            "templateName": template["name"],
            "status": status,
            "progress": round(100 * (done + failed) / total) if total else 0,
            "completedCount": done,
            "totalCount": total,
            "failedCount": failed,
        })
        if current is None and status in ("processing", "pending", "paused"):
            current = {"templateName": template["name"], "documentIndex": done + failed,
                       "totalDocuments": total}
    return {
        "taskId": task.id,
        "status": task.status.value,
        "progress": int(task.progress),
        "currentStep": current_step(task),
        "completedSteps": task.done + task.failed,
        "totalSteps": task.total,
        "estimatedTimeRemaining": task.eta_seconds(),
        "currentItem": current,
        "items": groups,
        "queue": queue_view(task, position),
        "completedDocuments": task.done,
        "failedDocuments": task.failed,
        "zipReady": bool(task.result.get("zipKey")),
        "errorMessage": task.error_message,
        "createdAt": iso(task.created_at),
        "startedAt": iso(task.started_at),
        "completedAt": iso(task.completed_at),
    }
