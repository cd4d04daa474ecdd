"""The gateway's outermost ASGI layer: probes on its own port (`/livez`, `/readyz`, answered
before routing, authentication or the framework), one access-log line per request and the HTTP
metrics, by route template. `/metrics` is not served here: the public port is the users', and
metrics go to the observability port only (`CONVEYOR_GATEWAY_METRICS_PORT`, libs/observability/
endpoint.py); on the public port it is an unknown path like any other.

It wraps the whole app so that unmatched paths (404) are logged and counted too; the template
comes from the router (`scope["path_template"]`), so labels stay bounded: an unmatched path is
`<unmatched>`, never the path itself. The log line carries no query string (a `?token=` stays
out of the log) and no headers."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from opentelemetry.trace import SpanKind

from libs.logging import get_logger
from libs.observability import metrics, tracing
from libs.observability.endpoint import probe_response

# Plain ASGI (any framework): scope and messages are dicts.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = get_logger("conveyor.access")

PROBE_PATHS = frozenset({"/livez", "/readyz"})
UNMATCHED = "<unmatched>"


@functools.lru_cache(maxsize=1024)  # the labels are bounded: route templates, methods, codes
def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The request counter's and duration histogram's children for these labels (`labels()`
    validates and locks on every call; the children never change)."""
    return (metrics.HTTP_REQUESTS.labels(method, route, str(status)),
            metrics.HTTP_SECONDS.labels(method, route))


def new_request_id() -> str:
    """`req_` and 16 random hex digits (a uuid4's costs several times more for the same)."""
    return f"req_{os.urandom(8).hex()}"


def observe_http(app: ASGIApp) -> ASGIApp:
    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            status, ctype, body = await probe_response(scope["path"])
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", ctype)]})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request_id = state.get("request_id") or state.setdefault("request_id", new_request_id())
        started = time.perf_counter()
        status = 101 if scope["type"] == "websocket" else 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The framework answers an error raised in a middleware from outside every
                # middleware, the request id's own included: the id is added here if missing.
                headers = message.get("headers", ())
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"x-request-id",
                                                                 request_id.encode())]}
            elif message["type"] == "websocket.close":
                status = 101
            await send(message)

        # Bound by token and reset after (this request's task owns the variable): cheaper
        # than structlog's generator-based bound_contextvars, on every request.
        bound = structlog.contextvars.bind_contextvars(correlation_id=request_id)
        try:
            with tracing.span(f"HTTP {scope.get('method', 'WS')}",
                              kind=SpanKind.SERVER) as span:
                await app(scope, receive, send_status)
                # Named after the route template once routing found it (bounded names).
                span.update_name(f"{scope.get('method', 'WS')} "
                                 f"{scope.get('path_template') or UNMATCHED}")
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            method = scope.get("method", "WS")
            if scope["type"] == "http":
                requests, durations = _series(method, route, status)
                requests.inc()
                durations.observe(seconds)
            log.info("http.request", method=method, route=route, status=status,
                     duration_ms=round(seconds * 1000, 2), request_id=request_id)
            structlog.contextvars.reset_contextvars(**bound)

    return wrapper
