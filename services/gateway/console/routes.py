"""Serves the console's static files (plain ES modules and CSS, no build step) and the vendored
Swagger UI and ReDoc the docs pages use, so nothing is fetched from a CDN: both work offline.

The files are public (they hold no data); every call they make goes through the bearer-token API.
A strict Content-Security-Policy keeps the console to its own scripts and styles, so data shown
from the API can never run as code."""

from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from libs.settings import CommonSettings
from services.gateway.console.docs import ReDoc, SwaggerUI
from services.gateway.settings import GatewaySettings

STATIC_DIR = Path(__file__).parent / "static"
CONSOLE_PATH = "/ui"
# Pinned releases from the npm registry, each with its licence beside it (see static/vendor/).
SWAGGER_UI = f"{CONSOLE_PATH}/vendor/swagger-ui-dist-5.35.0"
REDOC = f"{CONSOLE_PATH}/vendor/redoc-2.5.4"
FAVICON = f"<link rel='icon' type='image/svg+xml' href='{CONSOLE_PATH}/favicon.svg'>"


def storage_origin(settings: CommonSettings) -> str:
    """Where presigned download URLs point (ZIPs, slide images): the console fetches them."""
    host = settings.s3_public_endpoint or settings.s3_endpoint
    return f"{'https' if settings.s3_secure else 'http'}://{host}"


def _socket_origins(settings: GatewaySettings) -> str:
    """The console's own origin as WebSocket origins. 'self' covers them in CSP Level 3
    browsers; a configured public URL names them for the others."""
    public = settings.public_url.rstrip("/")
    if not public.startswith(("http://", "https://")):
        return ""
    host = public.split("://", 1)[1].split("/", 1)[0]
    return f" ws://{host} wss://{host}"


def content_security_policy(settings: GatewaySettings) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' blob: data: {storage_origin(settings)}",
        # Its own origin (the API and its WebSocket) and the storage its downloads come from.
        f"connect-src 'self'{_socket_origins(settings)} {storage_origin(settings)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ])


def console_router(settings: GatewaySettings) -> Any:
    policy = content_security_policy(settings)

    async def secure_headers(response: Response[Any]) -> Response[Any]:  # no thread hop
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return create_static_files_router(
        path=CONSOLE_PATH, directories=[STATIC_DIR], html_mode=True, name="console",
        cache_control=CacheControlHeader(no_cache=True),  # revalidate: a deploy shows at once
        after_request=secure_headers, include_in_schema=False,
    )


async def redirect_root(request: Request[Any, Any, Any]) -> Redirect | None:
    """`/` opens the console. A before-request hook rather than a route: with the docs mounted
    at the root, Litestar's OpenAPI router owns the `/` route itself. It runs before every
    request, so it is a coroutine: Litestar runs a sync hook in a worker thread (a thread hop
    per request)."""
    if request.scope["path"] == "/":
        return Redirect(f"{CONSOLE_PATH}/")
    return None


def docs_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at /docs and ReDoc at /redoc, pointed at the vendored copies."""
    return [
        SwaggerUI(
            path="/docs", js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER_UI}/swagger-ui.css",
            standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        ReDoc(path="/redoc", js_url=f"{REDOC}/redoc.standalone.js", google_fonts=False,
              favicon=FAVICON),
        JsonRenderPlugin(path="/openapi.json"),
    ]


PUBLIC_PATHS = ["^/$", f"^{CONSOLE_PATH}(/|$)"]
