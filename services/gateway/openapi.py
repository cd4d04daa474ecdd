"""The OpenAPI document's shared parts: the bearer security scheme (so Swagger's Authorize
works), the error envelope on every error answer, and `documented()`, which each route's
decorator uses to name its success schema and the errors it can answer:

    @get("/{task_id:str}", responses=documented(TaskStatusResponse, errors=(404,)))
"""

from collections.abc import Iterable
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, Example, SecurityRequirement, SecurityScheme

from services.gateway.errors import ErrorEnvelope

BEARER = "BearerToken"
COMPONENTS = Components(security_schemes={BEARER: SecurityScheme(
    type="http", scheme="bearer",
    description="A token from `make up` or `python -m services.gateway.cli create-user`. "
                "Browsers open WebSockets with the subprotocol pair `conveyor.bearer`, `<token>`; "
                "other clients may pass it as `?token=`."),
})
SECURITY: list[SecurityRequirement] = [{BEARER: []}]
PUBLIC: list[SecurityRequirement] = [{}]  # on a route: no token needed

# What each status means on this API, and one real example code.
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("Invalid request; `error.details` lists each field and what is wrong with it",
          "VALIDATION_ERROR", "invalid request: items: Expected `array` of length >= 1"),
    401: ("No token, an unknown one or a revoked one", "UNAUTHORIZED",
          "No Authorization header or token"),
    403: ("The token may not do this (admin only)", "FORBIDDEN", "only an admin may do this"),
    404: ("Not found, or owned by another tenant (the API does not tell them apart)",
          "TASK_NOT_FOUND", "task 3f2b... does not exist"),
    409: ("Conflicts with the current state (exists, in use, not ready)", "CONFLICT",
          "no ZIP to download: the task is running and has no ZIP yet"),
    410: ("Gone: the stored result was removed (retention, or lost); run the task again",
          "ZIP_GONE", "the ZIP of this task is no longer stored"),
    413: ("Too large", "PAYLOAD_TOO_LARGE", "file: larger than 10485760 bytes"),
    503: ("Not available right now (renderer, server or search); retry later",
          "RENDERER_UNAVAILABLE", "no PDF-capable renderer is online; try docx or retry later"),
}
DEFAULT_ERRORS = (400, 401)


def error_response(status: int) -> ResponseSpec:
    description, code, message = _ERRORS[status]
    example = {"success": False, "code": status, "message": message, "data": None,
               "detail": message,
               "error": {"code": code, "message": message, "details": None,
                         "requestId": "req_5d1c0e8a9b7f4a21",
                         "timestamp": "2026-01-01T00:00:00Z"},
               "timestamp": "2026-01-01T00:00:00Z"}
    return ResponseSpec(data_container=ErrorEnvelope, description=description,
                        generate_examples=False,
                        examples=[Example(summary=code, value=example)])


def documented(ok: Any, status: int = 200, *, errors: Iterable[int] = (),
               description: str = "Success", also: dict[int, ResponseSpec] | None = None,
               public: bool = False, media_type: str = "application/json",
               ) -> dict[int, ResponseSpec]:
    """`responses=` of a route: `ok` is the success body's type (a msgspec struct, or a list
    of them) at `status`; errors besides 400/401 are listed by status."""
    responses: dict[int, ResponseSpec] = {
        status: ResponseSpec(data_container=ok, description=description,
                             generate_examples=False, media_type=media_type)}
    for code in (*(() if public else DEFAULT_ERRORS), *errors):
        responses[code] = error_response(code)
    responses.update(also or {})
    return responses


def redirect_errors(*errors: int) -> dict[int, ResponseSpec]:
    """`responses=` of a redirect route: its 302 (with `Location`) is documented from the
    handler's `Redirect` return type; this adds the errors."""
    return {code: error_response(code) for code in (*DEFAULT_ERRORS, *errors)}
