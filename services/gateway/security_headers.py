"""Headers every answer of the gateway carries, set around the whole app (so errors of
unmatched routes, authentication and the framework get them too), each only where the answer
has not set its own:

- `X-Content-Type-Options: nosniff`: a JSON answer is never read as HTML or script;
- `Cache-Control: no-store`: tenants' data stays out of shared and browser caches (the
  console's static files set their own, revalidating);
- a Content-Security-Policy: the docs pages' (console/docs.py), or for everything else a
  policy that runs and frames nothing (an API answer opened in a browser stays inert; the
  console sets its own)."""

from libs.observability.asgi import ASGIApp, Message, Receive, Scope, Send
from services.gateway.console.docs import DOCS_PATHS, DOCS_POLICY

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def _defaults(path: str) -> list[tuple[bytes, bytes]]:
    policy = DOCS_POLICY if path in DOCS_PATHS else API_POLICY
    return [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
            (b"content-security-policy", policy.encode())]


_FOR_DOCS = _defaults(DOCS_PATHS[0])
_FOR_API = _defaults("")


def security_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        defaults = _FOR_DOCS if scope["path"] in DOCS_PATHS else _FOR_API

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in defaults if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
