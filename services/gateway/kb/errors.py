"""Seed 003's error codes, rendered through the gateway's one envelope
(`{"error": {"code": "7002", "message": ..., "details": ...}, ...}`). 3001, 7002 and 7003 are
the seed's; the others extend its numbering for the routes the seed leaves out."""

from typing import Any

from services.gateway.errors import ApiError
from services.gateway.kb import ids


def kb_not_found(kb_id: str) -> ApiError:
    return ApiError(404, "2001", "知识库不存在", {"kb_id": kb_id})


def kb_name_taken(name: str) -> ApiError:
    return ApiError(409, "2002", "同名知识库已存在", {"name": name})


def kb_limit(limit: int) -> ApiError:
    return ApiError(400, "2003", f"知识库数量已达上限 ({limit})", {"limit": limit})


def documents_not_found(not_found: list[str]) -> ApiError:
    return ApiError(404, "3001", "部分文档不存在", {"not_found": not_found})


def document_not_found(document_id: str) -> ApiError:
    return ApiError(404, "3001", "文档不存在", {"not_found": [document_id]})


def unsupported_type(filename: str, supported: list[str]) -> ApiError:
    return ApiError(400, "3002", "不支持的文件类型",
                    {"filename": filename, "supported": supported})


def document_too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, "3003", f"文件过大 ({size} 字节，上限 {limit} 字节)",
                    {"size_bytes": size, "limit_bytes": limit})


def document_limit(limit: int) -> ApiError:
    return ApiError(400, "3004", f"知识库文档数量已达上限 ({limit})", {"limit": limit})


def empty_document() -> ApiError:
    return ApiError(400, "3005", "文件为空", None)


def nothing_to_sync(kb_id: str) -> ApiError:
    return ApiError(400, "3006", "知识库中没有已上传的文档", {"kb_id": kb_id})


def sync_task_not_found(task_id: str) -> ApiError:
    return ApiError(404, "7001", "同步任务不存在", {"task_id": task_id})


def sync_running(holder_task_id: str | None) -> ApiError:
    details: dict[str, Any] = {
        "running_task_id": ids.public(ids.TASK, holder_task_id) if holder_task_id else None}
    return ApiError(400, "7002", "该知识库已有同步任务在运行", details)


def not_running(task_id: str, status: str) -> ApiError:
    return ApiError(400, "7003", "任务不在运行中，无法取消",
                    {"task_id": task_id, "current_status": status})


def not_finished(task_id: str, status: str) -> ApiError:
    return ApiError(400, "7004", "任务尚未结束，结束后才能重试失败文档",
                    {"task_id": task_id, "current_status": status})


def no_failed_documents(task_id: str) -> ApiError:
    return ApiError(400, "7005", "该任务没有失败的文档", {"task_id": task_id})


def search_unavailable(reason: str) -> ApiError:
    return ApiError(503, "7006", "检索服务暂不可用", {"reason": reason})
