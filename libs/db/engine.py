"""Engine factory. Repositories take an `AsyncConnection` and never commit; the boundary
(a request handler, a message handler) owns the transaction with `engine.begin()`."""

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_json_encoder = msgspec.json.Encoder()


def _dumps(value: object) -> str:
    return _json_encoder.encode(value).decode()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # survive a PostgreSQL restart without a burst of errors
        json_serializer=_dumps,
        json_deserializer=msgspec.json.decode,
    )
