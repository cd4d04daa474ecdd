"""Typed errors of the client: every non-2xx answer becomes an `ApiError` carrying the API's
error envelope (services/gateway/errors.py renders it the same way on every route)."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorBody(msgspec.Struct, rename="camel"):
    """`error` inside the envelope: the machine-readable code and the field-level details."""

    code: str = "UNKNOWN"
    message: str = ""
    details: Any = None
    request_id: str | None = None
    timestamp: str | None = None


class ErrorEnvelope(msgspec.Struct):
    success: bool = False
    code: int = 0
    message: str = ""
    error: ErrorBody = msgspec.field(default_factory=ErrorBody)
    timestamp: str | None = None


class ConveyorError(Exception):
    """Anything this client raises."""


class TransportError(ConveyorError):
    """The gateway could not be reached or answered something that is not the API."""


class ApiError(ConveyorError):
    """A non-2xx answer. `code` is the envelope's `error.code` (e.g. TASK_NOT_FOUND)."""

    def __init__(self, status: int, envelope: ErrorEnvelope) -> None:
        self.status = status
        self.envelope = envelope
        self.code = envelope.error.code
        self.message = envelope.error.message or envelope.message
        self.details = envelope.error.details
        self.request_id = envelope.error.request_id
        super().__init__(f"{status} {self.code}: {self.message}")


class Unauthorized(ApiError):
    """401: no token, an unknown one, or a revoked one."""


class Forbidden(ApiError):
    """403: the token is valid but may not do this (e.g. admin-only server routes)."""


class NotFound(ApiError):
    """404: unknown, or owned by someone else (the API does not tell them apart)."""


class Conflict(ApiError):
    """409: the resource exists, is in use or is not in a state that allows this."""


class InvalidRequest(ApiError):
    """400/413/415/422: what is wrong is in `details` ({field, message} rows)."""


class Unavailable(ApiError):
    """503: a renderer, server or search is not available right now."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    413: InvalidRequest, 415: InvalidRequest, 422: InvalidRequest, 503: Unavailable,
}

_decoder = msgspec.json.Decoder(ErrorEnvelope)


def error_from_response(status: int, body: bytes) -> ApiError:
    try:
        envelope = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = body[:500].decode("utf-8", "replace")
        envelope = ErrorEnvelope(code=status, message=text,
                                 error=ErrorBody(code=f"HTTP_{status}", message=text))
    return _BY_STATUS.get(status, ApiError)(status, envelope)
