"""One error envelope for every route, readable by each seed's clients:

    {"success": false, "code": 404, "message": "...", "data": null, "detail": "...",
     "error": {"code": "TASK_NOT_FOUND", "message": "...", "details": ..., "requestId": "...",
               "timestamp": "..."},
     "timestamp": "..."}

seed 000 reads `success` and `error.{code,message,details}`; seed 002 reads `code`, `message`
and `data`; seed 003 reads `error.{code,message,details}`; seed 004 (FastAPI-style) `detail`.
"""

import re
from typing import Any, Literal

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, DBAPIError

from libs.logging import get_logger
from libs.tasks.creation import ExclusivityConflict
from libs.tasks.limits import TenantLimitExceeded
from libs.tasks.model import utcnow
from libs.tasks.transitions import InvalidTransition
from services.gateway import outages

log = get_logger(__name__)

RETRY_AFTER_S = 2  # what a 503 asks a client to wait: a restart of PostgreSQL takes about this


class FieldProblem(msgspec.Struct):
    """One thing wrong with a request: `field` is a dotted path (`options.concurrency`,
    `data[3].name`), as the request spells it."""

    field: str
    message: str


class ErrorBody(msgspec.Struct, rename="camel"):
    code: str  # machine-readable: VALIDATION_ERROR, TASK_NOT_FOUND, INVALID_TASK_STATE, ...
    message: str
    # Usually a list of FieldProblem; some codes carry an object instead (INVALID_TASK_STATE:
    # task_id and current_status; TASK_CONFLICT: running_task_id).
    details: list[FieldProblem] | dict[str, Any] | None
    request_id: str | None  # also in the X-Request-ID header and in every log line
    timestamp: str


class ErrorEnvelope(msgspec.Struct):
    """The body of every error answer, on every route (the OpenAPI document's error schema)."""

    success: Literal[False]
    code: int  # the HTTP status again, for seed 002's clients
    message: str
    data: None
    detail: str  # for FastAPI-style clients (seed 004)
    error: ErrorBody
    timestamp: str


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def validation_error(field: str, message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", f"{field}: {message}",
                    [{"field": field, "message": message}])


def task_not_found(task_id: str) -> ApiError:
    return ApiError(404, "TASK_NOT_FOUND", f"task {task_id} does not exist")


def item_not_found(task_id: str, seq: int) -> ApiError:
    return ApiError(404, "ITEM_NOT_FOUND", f"task {task_id} has no item #{seq}")


def batch_not_found(batch_id: str) -> ApiError:
    return ApiError(404, "BATCH_NOT_FOUND", f"batch {batch_id} does not exist")


def server_not_found(name: str) -> ApiError:
    return ApiError(404, "SERVER_NOT_FOUND", f"server {name} is not registered",
                    [{"field": "selected_server", "message": "not registered"}])


def template_not_found(template_id: str) -> ApiError:
    return ApiError(404, "TEMPLATE_NOT_FOUND", f"template {template_id} does not exist",
                    [{"field": "templateIds", "message": f"{template_id} does not exist"}])


def data_source_not_found(source_id: str, field: str | None = None) -> ApiError:
    return ApiError(404, "DATA_SOURCE_NOT_FOUND", f"data source {source_id} does not exist",
                    [{"field": field, "message": "does not exist"}] if field else None)


# --- knowledge-base sync: the codes its clients know (3001, 7002, 7003) and the ones that
# extend its numbering for the routes it leaves out ------------------------------------------

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


def sync_running(running_task_id: str | None) -> ApiError:
    """`running_task_id` in its public form (`task-…`)."""
    return ApiError(400, "7002", "该知识库已有同步任务在运行",
                    {"running_task_id": running_task_id})


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


def envelope(request: Request[Any, Any, Any] | None, error: ApiError) -> dict[str, Any]:
    timestamp = iso_now()
    request_id = request.state.get("request_id") if request is not None else None
    body = ErrorEnvelope(
        success=False, code=error.status, message=error.message, data=None,
        detail=error.message,
        error=ErrorBody(code=error.code, message=error.message, details=error.details,
                        request_id=request_id, timestamp=timestamp),
        timestamp=timestamp)
    # Through the struct, so that what is sent is what the OpenAPI document says.
    return msgspec.to_builtins(body)  # type: ignore[no-any-return]


def iso_now() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


def _respond(request: Request[Any, Any, Any], error: ApiError) -> Response[Any]:
    return Response(envelope(request, error), status_code=error.status,
                    media_type=MediaType.JSON, headers=error.headers)


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")
_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _field_details(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar reports msgspec errors as `Expected int, got str - at $.options.concurrency`;
    turn each into {field, message} with the field's dotted path."""
    details = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "invalid value"))
        at, named = _AT_PATH.search(message), _NAMED_FIELD.search(message)
        path = [at.group(1)] if at and at.group(1) else []
        if named:
            path.append(named.group(1))
        # Query parameters are reported by their Python name; clients know them in camelCase.
        # Body fields are reported as the body spells them (camelCase, or snake_case in
        # seeds 001 and 004).
        key = str(item.get("key") or "body")
        if item.get("source") == "query":
            key = _camel(key)
        field = ".".join(path) if path or item.get("source") != "query" else key
        details.append({"field": field or key, "message": _AT_PATH.sub("", message)})
    return details or [{"field": "body", "message": str(exc.detail)}]


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return _respond(request, exc)


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    details = _field_details(exc)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return _respond(request, ApiError(400, "VALIDATION_ERROR", f"invalid request: {summary}",
                                      details))


_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "TOO_MANY_REQUESTS"}


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        return _respond(request, ApiError(401, "UNAUTHORIZED", exc.detail,
                                          headers={"WWW-Authenticate": "Bearer"}))
    if status == 400:  # e.g. a body that is not JSON at all
        return _respond(request, ApiError(400, "VALIDATION_ERROR", f"body: {exc.detail}",
                                          [{"field": "body", "message": exc.detail}]))
    code = _CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
    # The framework's own headers stay: a 405's `Allow` lists the methods the path takes.
    return _respond(request, ApiError(status, code, exc.detail, headers=exc.headers or None))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An outage of a dependency (whatever raised it) is 503; anything else is a bug: 500."""
    if (dependency := outages.unavailable(exc)) is not None:
        return unavailable_response(request, dependency, exc)
    log.exception("request.failed", path=request.url.path)
    return _respond(request, ApiError(HTTP_500_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
                                      "internal error; the request id identifies it in the logs"))


def handle_data_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """The database refused a value as data (out of range, malformed): client input the
    boundary (gateway/boundary.py) did not anticipate. Still the client's error, never a 500;
    logged so the boundary can learn to name the field."""
    log.warning("request.data_refused", path=request.url.path, error=str(exc.orig)[:300])
    return _respond(request, ApiError(400, "VALIDATION_ERROR",
                                      "request: a value is out of range or malformed",
                                      [{"field": "request",
                                        "message": "a value is out of range or malformed"}]))


def handle_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """Class 22 (data exception: a value out of range for its column, malformed) is the
    client's input, as DataError is; the database restarting or full is nobody's fault: 503,
    retry later; anything else is a bug."""
    if outages.sqlstate(exc).startswith("22"):
        return handle_data_error(request, exc)
    return handle_unexpected(request, exc)


def unavailable_response(request: Request[Any, Any, Any], dependency: str,
                         exc: BaseException) -> Response[Any]:
    log.warning("request.dependency_unavailable", path=request.url.path, dependency=dependency,
                error=f"{type(exc).__name__}: {str(exc)[:200]}")
    return _respond(request, ApiError(503, "SERVICE_UNAVAILABLE",
                                      f"the {dependency} is unavailable; retry shortly",
                                      headers={"Retry-After": str(RETRY_AFTER_S)}))


def handle_invalid_transition(
    request: Request[Any, Any, Any], exc: InvalidTransition
) -> Response[Any]:
    return _respond(request, ApiError(
        400, "INVALID_TASK_STATE",
        f"task cannot be {_PAST[exc.action]} (current status: {exc.status})",
        {"task_id": exc.task_id, "current_status": exc.status.value},
    ))


_PAST = {"start": "started", "pause": "paused", "resume": "resumed", "cancel": "cancelled",
         "fail": "failed", "finish": "finished"}


def handle_conflict(request: Request[Any, Any, Any], exc: ExclusivityConflict) -> Response[Any]:
    return _respond(request, ApiError(
        409, "TASK_CONFLICT", f"another unfinished task holds {exc.key}",
        {"running_task_id": exc.holder_task_id},
    ))


# The knowledge-base family numbers its errors (seed 003); the others read TOO_MANY_REQUESTS.
_KB_PATHS = ("/api/v1/knowledge-bases", "/api/v1/sync-tasks")
KB_LIMIT_CODE = "7007"


def tenant_limit(path: str, exc: TenantLimitExceeded) -> ApiError:
    """429 with Retry-After: the tenant created too many tasks (per hour, or unfinished)."""
    what = ("tasks created in the last hour" if exc.limit == "tasks_per_hour"
            else "unfinished tasks")
    code = KB_LIMIT_CODE if path.startswith(_KB_PATHS) else "TOO_MANY_REQUESTS"
    return ApiError(429, code, f"tenant limit reached: {exc.allowed} {what}; retry in "
                    f"{exc.retry_after_s}s",
                    {"limit": exc.limit, "allowed": exc.allowed,
                     "retry_after_s": exc.retry_after_s},
                    headers={"Retry-After": str(exc.retry_after_s)})


def handle_tenant_limit(request: Request[Any, Any, Any],
                        exc: TenantLimitExceeded) -> Response[Any]:
    return _respond(request, tenant_limit(request.url.path, exc))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: handle_api_error,
    TenantLimitExceeded: handle_tenant_limit,
    InvalidTransition: handle_invalid_transition,
    ExclusivityConflict: handle_conflict,
    ValidationException: handle_validation,
    DataError: handle_data_error,
    DBAPIError: handle_database_error,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
