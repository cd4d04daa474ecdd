"""The gateway's input boundary: one middleware that checks every part of every request a client
controls (path parameters, query parameters, headers, JSON bodies, multipart text fields and
file names) before a handler sees it, and answers 400 naming the field.

The checks themselves are libs.inputs' (NUL, unpaired surrogates, invalid UTF-8, JSON depth,
integers outside PostgreSQL's bigint); file *contents* are checked by their parsers
(documents/uploads.py) with the same functions. WebSocket messages go through `check_json` in
stream/routes.py.
"""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from libs.inputs import InputRejected, check_json, check_text
from services.gateway.errors import ApiError, validation_error

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(rb'(\w+)\*?="((?:[^"\\]|\\.)*)"|(\w+)=([^;\s]+)')


def _integer_in_range(field: str, value: str) -> None:
    """A number PostgreSQL's bigint (and an int64 column) cannot hold is a client error."""
    digits = value.lstrip("-")
    if digits.isdigit() and len(digits) > 18 and not -2**63 <= int(value) < 2**63:
        raise InputRejected(field, "integer out of range")


def _text(field: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRejected(field, "not valid UTF-8") from None
    return check_text(field, text)


def check_path(scope: Scope) -> None:
    """Each segment of the raw path, named after the route's parameter where it is one."""
    template = str(scope.get("path_template") or "").strip("/").split("/")
    raw = scope.get("raw_path") or scope["path"].encode()
    for index, segment in enumerate(raw.split(b"?", 1)[0].strip(b"/").split(b"/")):
        name = template[index] if index < len(template) else ""
        field = name[1:-1].split(":", 1)[0] if name.startswith("{") else "path"
        _integer_in_range(field, _text(field, unquote_to_bytes(segment)))


def check_query(query_string: bytes) -> None:
    for pair in query_string.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _text("query", unquote_to_bytes(raw_name.replace(b"+", b" ")))
        _integer_in_range(name, _text(name, unquote_to_bytes(raw_value.replace(b"+", b" "))))


def check_headers(headers: Iterable[tuple[bytes, bytes]]) -> None:
    for name, value in headers:
        if b"\x00" in value:
            raise InputRejected(name.decode("latin-1"), "header contains a NUL character")


def check_multipart(body: bytes, content_type: str) -> None:
    """Text fields and file names of a multipart body (file contents are the parsers' job)."""
    found = _BOUNDARY.search(content_type)
    if not found:
        return
    delimiter = b"--" + found.group(1).encode("latin-1")
    for part in body.split(delimiter)[1:]:
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        params: dict[bytes, bytes] = {}
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-disposition:"):
                for match in _DISPOSITION_PARAM.finditer(line):
                    key = (match.group(1) or match.group(3)).lower()
                    params[key] = match.group(2) if match.group(1) else match.group(4)
        field = _text("form field name", params.get(b"name", b"form"))
        if b"filename" in params:
            _text(f"{field} (file name)", params[b"filename"])
        else:
            _text(field, content.removesuffix(b"\r\n"))


class InputBoundaryMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            check_path(scope)
            check_query(scope.get("query_string", b""))
            check_headers(scope.get("headers", []))
            if scope.get("method") in _BODY_METHODS:  # http only; a websocket has no method
                receive = await self._checked_body(scope, receive)
        except InputRejected as exc:
            raise validation_error(exc.field, exc.message) from None
        await self.app(scope, receive, send)

    async def _checked_body(self, scope: Scope, receive: Receive) -> Receive:
        """The body as the route will parse it: JSON, multipart, or (no `data` parameter, e.g.
        PUT /files/...) raw bytes that are stored, never parsed, and not checked here."""
        handler = scope.get("route_handler")
        data = getattr(handler, "parsed_data_field", None)
        if data is None:
            return receive
        media_type = getattr(data.kwarg_definition, "media_type", None)
        expects = str(getattr(media_type, "value", media_type) or "")
        content_type = header(scope, b"content-type")  # the boundary is case-sensitive
        is_form = "multipart" in expects or "urlencoded" in expects
        is_json = not is_form
        body = await read_body(receive, self.max_body_bytes)
        if is_json and body:
            check_json(body)
        elif is_form and content_type.lower().startswith("multipart/form-data"):
            check_multipart(body, content_type)
        return replaying(body, receive)


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole request body (413 past `max_bytes`); hand the app `replaying(body, ...)`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"body: larger than {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the body already read, then whatever the client sends next."""
    replayed = False

    async def replay() -> ReceiveMessage:
        nonlocal replayed
        if replayed:
            return await receive()  # http.disconnect
        replayed = True
        whole: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
        return whole

    return replay


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""
