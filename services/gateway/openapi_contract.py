"""What the generated OpenAPI document cannot say by itself, added once at start-up to the
document every page serves (/openapi.json, /docs, /redoc), so the contract states what the
server enforces:

- a request body whose struct refuses unknown fields says `additionalProperties: false`, and
  the items of its lists keep their limits;
- a server-sent event stream is described as events (`event`, `data`), whose `data` is the
  JSON of the route's message schema (`contentMediaType`/`contentSchema`);
- extra content types of a route (`format=jsonl` answers JSON lines);
- the path of a stored file is the pattern the server checks (servers/paths.py)."""

from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

from services.gateway.servers.paths import FILE_PATH_PATTERN, MAX_PATH

SSE = "text/event-stream"
# Content types a route answers besides its documented one: (path, method) -> type -> schema.
EXTRA_CONTENT: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("/api/slide/sessions/{session_id}/logs", "get"): {
        # OpenAPI 3.1 has no schema for a line of a stream: each line is one of these.
        "application/x-ndjson": {"schema": {
            "$ref": "#/components/schemas/LogLineView",
            "description": "with format=jsonl: one log line (this object, JSON) per line"}}},
}
FILE_PATH_SCHEMA = {"type": "string", "pattern": FILE_PATH_PATTERN, "maxLength": MAX_PATH,
                    "description": "a stored file's path: '/'-separated names of 1-255 "
                                   "characters, no '.' or '..' name, no backslash or control "
                                   "character"}


_LIMITS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
           "exclusiveMaximum")


def _service_structs() -> dict[str, type[msgspec.Struct]]:
    """The services' structs, by the name their component schema gets."""
    found: dict[str, type[msgspec.Struct]] = {}
    pending: list[type[msgspec.Struct]] = [msgspec.Struct]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("services."):
            found[cls.__name__] = cls
    return found


def _item_limits(schema: dict[str, Any], cls: type[msgspec.Struct]) -> None:
    """Litestar drops the limits of a list's items (`list[Annotated[str, Meta(...)]]`);
    msgspec's own schema of the struct has them."""
    try:
        _, own = msgspec.json.schema_components([cls])
    except (TypeError, ValueError):
        return
    for name, spec in own.get(cls.__name__, {}).get("properties", {}).items():
        target = schema.get("properties", {}).get(name, {})
        items, theirs = target.get("items"), spec.get("items")
        if target.get("type") == spec.get("type") == "array" and isinstance(items, dict) \
                and isinstance(theirs, dict) and "$ref" not in items:
            items.update({k: v for k, v in theirs.items() if k in _LIMITS and k not in items})


def _sse_events(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {
        "event": {"type": "string", "description": "the message's `type`"},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": message},
        "id": {"type": "string"}, "retry": {"type": "integer"}}}


def complete(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name, cls in _service_structs().items():
        if name not in schemas or schemas[name].get("type") != "object":
            continue
        if cls.__struct_config__.forbid_unknown_fields:
            schemas[name]["additionalProperties"] = False
        _item_limits(schemas[name], cls)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            ok = operation.get("responses", {}).get("200", {})
            content = ok.get("content", {})
            if SSE in content and "data" not in str(content[SSE].get("schema")):
                content[SSE]["schema"] = _sse_events(content[SSE]["schema"])
            content.update(EXTRA_CONTENT.get((path, method), {}))
            if path.startswith("/files/{file_path}"):
                for parameter in operation.get("parameters", []):
                    if parameter.get("name") == "file_path":
                        parameter["schema"] = dict(FILE_PATH_SCHEMA)


def complete_on_startup(app: Litestar) -> None:
    complete(app.plugins.get(OpenAPIPlugin).provide_openapi_schema())
