"""`Idempotency-Key` on every create route (marked `opt=IDEMPOTENT_CREATE`).

The first request with a key claims it (per user, 24 hours) with a fingerprint of what was
asked (method, path, query, body; JSON canonicalised, a multipart body without its random
boundary). Then:

- the same key and fingerprint again gets the stored answer (`Idempotent-Replayed: true`),
  whatever happened to the connection of the first;
- a different fingerprint is `409 IDEMPOTENCY_KEY_REUSED`;
- a repeat while the first has created nothing yet and is under `IN_PROGRESS_S` old is
  `409 IDEMPOTENCY_KEY_IN_USE` (try again shortly);
- a repeat of a request that created its task but never answered (the gateway died, or the
  slides batch it waits for is still running) runs the route again: the creation point
  (`TaskService`) finds the task recorded under the key and returns it instead of creating
  another, so the answer is about the same task.

Only 2xx answers are stored; a refused request releases its key so it can be corrected."""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.auth.repository import Principal
from services.gateway.boundary import header, read_body, replaying
from services.gateway.errors import ApiError, validation_error
from services.gateway.idempotency import repository as repo
from services.gateway.idempotency.context import IDEMPOTENT_CREATE, current_claim
from services.gateway.idempotency.service import IdempotencyKeys

HEADER = b"idempotency-key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, like the usual UUID
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
IN_PROGRESS_S = 30.0
MAX_STORED_RESPONSE = 1024 * 1024  # larger answers are not replayed; the task still is


def fingerprint(scope: Scope, body: bytes) -> str:
    content_type = header(scope, b"content-type")
    if "json" in content_type.lower() and body:
        try:
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            pass  # hashed as sent; the route will refuse it anyway
    elif (boundary := _BOUNDARY.search(content_type)) is not None:
        body = body.replace(boundary.group(1).encode("latin-1"), b"")
    digest = hashlib.sha256()
    for part in (str(scope.get("method", "")), str(scope.get("path", "")),
                 bytes(scope.get("query_string", b"")).decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, HEADER) if scope["type"] == ScopeType.HTTP else ""
        opt = getattr(scope.get("route_handler"), "opt", None) or {}
        principal = scope.get("user")
        if not key or not all(opt.get(k) for k in IDEMPOTENT_CREATE) or not isinstance(
                principal, Principal):
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(key):
            raise validation_error("Idempotency-Key", "1 to 255 visible ASCII characters")
        body = await read_body(receive, self.max_body_bytes)
        owner = repo.Claim(principal.user_id, key)
        fp = fingerprint(scope, body)
        keys: IdempotencyKeys = scope["app"].state.idempotency_keys
        earlier = await keys.claim(owner, fp)
        if earlier is not None:
            if earlier.fingerprint != fp:
                raise ApiError(409, "IDEMPOTENCY_KEY_REUSED",
                               "Idempotency-Key was already used for a different request; "
                               "use a new key for a new request")
            if earlier.status_code is not None:
                await _replay(send, earlier)
                return
            if earlier.resource_id is None and earlier.age_s < IN_PROGRESS_S:
                raise ApiError(409, "IDEMPOTENCY_KEY_IN_USE",
                               "a request with this Idempotency-Key is still in progress; "
                               "send it again in a few seconds",
                               headers={"Retry-After": "2"})
        async def settle(status: int, content_type: str, response: bytes | None) -> None:
            # Before the client has the answer: a repeat sent the moment it arrives must find
            # the key released or the answer stored.
            await keys.settle(owner, status, content_type, response)

        capture = _Capture(send, settle)
        token = current_claim.set(owner)
        try:
            await self.app(scope, replaying(body, receive), capture.send)
        except BaseException:
            await keys.release(owner)
            raise
        finally:
            current_claim.reset(token)


async def _replay(send: Send, earlier: repo.Remembered) -> None:
    assert earlier.status_code is not None
    headers = [(b"content-type", (earlier.content_type or "application/json").encode()),
               (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": earlier.status_code,
                "headers": headers})
    await send({"type": "http.response.body", "body": earlier.response or b"",
                "more_body": False})


class _Capture:
    """Holds the response until its last part, settles the key, then sends it. A response
    larger than MAX_STORED_RESPONSE is passed on as it comes and not stored."""

    def __init__(self, send: Send,
                 settle: Callable[[int, str, bytes | None], Awaitable[None]]) -> None:
        self._send = send
        self._settle = settle
        self._held: list[Message] = []
        self._size = 0
        self._streaming = False
        self._status = 500
        self._content_type = "application/json"

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = int(message["status"])
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self._content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunk: Any = message.get("body", b"")
            self._size += len(chunk)
            if self._size > MAX_STORED_RESPONSE and not self._streaming:
                self._streaming = True
                await self._settle(self._status, self._content_type, None)
                for held in self._held:
                    await self._send(held)
                self._held.clear()
            if not self._streaming and not message.get("more_body", False):
                self._held.append(message)
                body = b"".join(m.get("body", b"") for m in self._held
                                if m["type"] == "http.response.body")
                await self._settle(self._status, self._content_type, body)
                for held in self._held:
                    await self._send(held)
                self._held.clear()
                return
        if self._streaming:
            await self._send(message)
        else:
            self._held.append(message)
