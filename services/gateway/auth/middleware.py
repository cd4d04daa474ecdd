"""Authenticates every HTTP request and WebSocket except health and the API docs.

Browsers cannot set headers on a WebSocket, so a socket may carry the token as `?token=`."""

import time

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.auth.repository import Principal, principal_for_token

PUBLIC_PATHS = ["^/api/v2/health$", "^/docs", "^/redoc", "^/openapi", "^/schema"]


class TokenCache:
    """Token lookups cached briefly: a revoked token stops working within `ttl_s`."""

    def __init__(self, db: AsyncEngine, ttl_s: float = 30.0, max_size: int = 10_000) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    async def resolve(self, token: str) -> Principal | None:
        now = time.monotonic()
        cached = self._entries.get(token)
        if cached and now - cached[0] < self._ttl_s:
            return cached[1]
        async with self._db.connect() as conn:
            principal = await principal_for_token(conn, token)
        if len(self._entries) >= self._max_size:
            self._entries.clear()
        self._entries[token] = (now, principal)
        return principal


def bearer_token(connection: ASGIConnection) -> str | None:  # type: ignore[type-arg]
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        return connection.query_params.get("token") or connection.query_params.get("access_token")
    return None


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection  # type: ignore[type-arg]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise NotAuthorizedException(
                "missing bearer token: send 'Authorization: Bearer <token>'"
            )
        cache: TokenCache = connection.app.state.token_cache
        principal = await cache.resolve(token)
        if principal is None:
            raise NotAuthorizedException("invalid or revoked token")
        return AuthenticationResult(user=principal, auth=token)
