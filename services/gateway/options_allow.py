"""`OPTIONS` answers `Allow` with every method of the path. Litestar's automatic OPTIONS handler
reads the methods of the route object it was made with; when a path's handlers are merged into
one route later (a controller with `GET /` and `POST /`), it keeps listing the first handler's
only. This layer lists the merged route's methods instead."""

from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from libs.observability.asgi import ASGIApp, Message, Receive, Scope, Send


def _methods(app: Litestar) -> dict[str, bytes]:
    return {route.path_format: ", ".join(sorted(route.methods)).encode()
            for route in app.routes if isinstance(route, HTTPRoute)}


def allow_header(app: Litestar) -> ASGIApp:
    methods: dict[str, bytes] | None = None
    asgi: Any = app

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal methods
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await asgi(scope, receive, send)
            return
        if methods is None:
            methods = _methods(app)

        async def send_with_allow(message: Message) -> None:
            allowed = methods.get(scope.get("path_template") or "") if methods else None
            if message["type"] == "http.response.start" and allowed:
                headers = [(k, v) for k, v in message.get("headers", ())
                           if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allowed)]}
            await send(message)

        await asgi(scope, receive, send_with_allow)

    return middleware
