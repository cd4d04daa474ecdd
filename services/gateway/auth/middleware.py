"""Authenticates every HTTP request and WebSocket except health, the API docs and the console's
static files. Wrong tokens are counted per client address (auth/failures.py): past the limit
they are answered 429, while a valid token from that address still passes.

Browsers cannot set headers on a WebSocket. A browser offers the token as a subprotocol pair
instead, `new WebSocket(url, ["conveyor.bearer", token])` (the Sec-WebSocket-Protocol header,
which access logs do not record, unlike a URL); `?token=` still works for older clients."""

import time

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.auth.failures import FailedTokens
from services.gateway.auth.repository import Principal, principal_for_token, token_hash
from services.gateway.errors import ApiError

BEARER_SUBPROTOCOL = "conveyor.bearer"
PUBLIC_PATHS = ["^/api/v2/health$", "^/docs", "^/redoc", "^/openapi", "^/schema"]


class TokenCache:
    """Token lookups cached briefly, by the token's hash (the token itself is kept nowhere).
    A revocation notice drops the entry at once (auth/revocations.py); `ttl_s` bounds one whose
    notice was lost."""

    def __init__(self, db: AsyncEngine, ttl_s: float = 10.0, max_size: int = 10_000) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}

    async def resolve(self, token: str) -> Principal | None:
        now = time.monotonic()
        key = token_hash(token)
        cached = self._entries.get(key)
        if cached and now - cached[0] < self._ttl_s:
            return cached[1]
        async with self._db.connect() as conn:
            principal = await principal_for_token(conn, token)
        if len(self._entries) >= self._max_size:
            self._entries.clear()
        self._entries[key] = (now, principal)
        return principal

    def forget(self, hashed: bytes) -> None:
        self._entries.pop(hashed, None)


def _authorization(connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    """The Authorization header, read off the raw ASGI headers (names arrive lowercased):
    building the connection's Headers object for one header cost more than the lookup."""
    for name, value in connection.scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


def bearer_token(connection: ASGIConnection) -> str | None:  # type: ignore[type-arg]
    header = _authorization(connection)
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        offered = subprotocols(connection)
        if BEARER_SUBPROTOCOL in offered:
            at = offered.index(BEARER_SUBPROTOCOL)
            return offered[at + 1] if at + 1 < len(offered) else None
        return connection.query_params.get("token") or connection.query_params.get("access_token")
    return None


def subprotocols(connection: ASGIConnection) -> list[str]:  # type: ignore[type-arg]
    """The subprotocols a WebSocket client offered, in its order."""
    return [p.strip() for p in connection.headers.get("sec-websocket-protocol", "").split(",")
            if p.strip()]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection  # type: ignore[type-arg]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise NotAuthorizedException(
                "missing bearer token: send 'Authorization: Bearer <token>'"
            )
        state = connection.app.state
        cache: TokenCache = state.token_cache
        principal = await cache.resolve(token)
        if principal is None:
            failures: FailedTokens = state.failed_tokens
            client = connection.scope.get("client")
            wait_s = failures.fail(client[0] if client else "")
            if wait_s is not None:
                raise ApiError(429, "TOO_MANY_FAILED_TOKENS",
                               "too many wrong tokens from this address; "
                               f"retry in {wait_s}s", headers={"Retry-After": str(wait_s)})
            raise NotAuthorizedException("invalid or revoked token")
        return AuthenticationResult(user=principal, auth=token)
