"""A pooled connection's asyncpg connection, for the few hot reads that need none of
SQLAlchemy's statement, execution-context and result layers (the gateway's status poll: those
layers cost ~3x the statement itself).

The connection comes from the engine's own pool (one pool per process, as everywhere) and goes
back to it as it came: the statement runs outside any transaction (autocommit, no BEGIN or
ROLLBACK round trips), so the pool's reset-on-return has nothing to roll back. The engine's
codecs apply (json and jsonb decode with the engine's deserializer).

Without a pre-ping (libs/db/engine.py) a connection PostgreSQL closed is found here for free:
asyncpg marks it closed when the server's goodbye arrives, so it is dropped and another taken;
one that breaks mid-statement is invalidated before the error goes up."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

# Enough to walk past every connection of a pool PostgreSQL restarted under (pool size plus
# overflow); each dropped one reconnects on its next checkout.
MAX_CLOSED_SKIPPED = 64
BROKEN = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


async def _checkout(engine: AsyncEngine) -> PoolProxiedConnection:
    for _ in range(MAX_CLOSED_SKIPPED):
        pooled = await engine.raw_connection()
        if pooled.driver_connection is not None and not pooled.driver_connection.is_closed():
            return pooled
        await greenlet_spawn(pooled.invalidate)  # closes it and returns its slot to the pool
    return await engine.raw_connection()


class DriverConnection:
    """The asyncpg connection of a pooled connection, outside a transaction: use it for
    single reads only (a write would commit on its own). A class rather than a generator-based
    context manager: it is entered on every status poll."""

    __slots__ = ("_engine", "_pooled")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pooled: PoolProxiedConnection | None = None

    async def __aenter__(self) -> Any:
        self._pooled = await _checkout(self._engine)
        return self._pooled.driver_connection

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        _: object) -> None:
        pooled, self._pooled = self._pooled, None
        assert pooled is not None
        if error is not None and _unusable_after(error, pooled.driver_connection):
            await greenlet_spawn(pooled.invalidate, error)  # also checks it in
        elif pooled.dbapi_connection is not None:
            await greenlet_spawn(pooled.close)


def _unusable_after(error: BaseException, driver: Any) -> bool:
    """After an error the server reported about the statement (a PostgresError on a live
    connection) the connection is fine; after anything else (the connection broke, a client
    state error, the request was cancelled mid-statement) it is dropped, as SQLAlchemy does."""
    return (isinstance(error, BROKEN) or not isinstance(error, asyncpg.PostgresError)
            or driver is None or driver.is_closed())
