"""Engine factory. Repositories take an `AsyncConnection` and never commit; the boundary
(a request handler, a message handler) owns the transaction with `engine.begin()`."""

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_json_encoder = msgspec.json.Encoder()


def _dumps(value: object) -> str:
    return _json_encoder.encode(value).decode()


def create_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """`pre_ping` tests each connection on checkout (one round trip) so a PostgreSQL restart
    causes no burst of errors; the gateway turns it off for its read path's speed (after a
    restart one request fails and SQLAlchemy then renews the whole pool)."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        json_serializer=_dumps,
        json_deserializer=msgspec.json.decode,
    )
