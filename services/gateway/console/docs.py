"""Swagger UI at /docs and ReDoc at /redoc, from the vendored copies (no CDN: both work offline),
under a Content-Security-Policy that runs no script but theirs.

Litestar's own pages put the whole OpenAPI document inside an inline script, which a policy
could only admit by a hash that changes with every API change. These pages carry it as data
(`<script type="application/json">`, never executed; `</` escaped so it cannot close the
element) and start the viewer with one fixed inline script, admitted by its hash."""

import base64
import hashlib
from typing import Any

from litestar import Request
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin

_SPEC = "JSON.parse(document.getElementById('openapi-spec').textContent)"
SWAGGER_INIT = (f"SwaggerUIBundle({{spec: {_SPEC}, dom_id: '#swagger-container', "
                "deepLinking: true, showExtensions: true, showCommonExtensions: true, "
                "presets: [SwaggerUIBundle.presets.apis, "
                "SwaggerUIBundle.SwaggerUIStandalonePreset]});")
REDOC_INIT = f"Redoc.init({_SPEC}, undefined, document.getElementById('redoc-container'));"


def _source(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# Both viewers style themselves with inline styles (ReDoc through styled-components), and
# show data: images; they fetch only from this origin (the spec is in the page).
DOCS_POLICY = "; ".join([
    "default-src 'none'",
    f"script-src 'self' {_source(SWAGGER_INIT)} {_source(REDOC_INIT)}",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
])
DOCS_PATHS = ("/docs", "/redoc")


def _page(plugin: Any, request: Request[Any, Any, Any], schema: dict[str, Any], head: str,
          body: str, init: str) -> bytes:
    spec = plugin.render_json(request, schema).replace(b"</", b"<\\/")
    return b"".join([
        f"<!DOCTYPE html><html><head><title>{schema['info']['title']}</title>"
        f"{plugin.favicon}<meta charset='utf-8'/>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"{head}{plugin.style}</head><body>{body}"
        "<script type='application/json' id='openapi-spec'>".encode(),
        spec,
        f"</script><script>{init}</script></body></html>".encode(),
    ])


class SwaggerUI(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        head = (f"<link href='{self.css_url}' rel='stylesheet'>"
                f"<script src='{self.js_url}'></script>"
                f"<script src='{self.standalone_preset_js_url}'></script>")
        return _page(self, request, openapi_schema, head, "<div id='swagger-container'></div>",
                     SWAGGER_INIT)


class ReDoc(RedocRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(self, request, openapi_schema, f"<script src='{self.js_url}'></script>",
                     "<div id='redoc-container'></div>", REDOC_INIT)
