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

import contextlib
from collections.abc import AsyncIterator
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


@contextlib.asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The asyncpg connection of a pooled connection, outside a transaction: use it for
    single reads only (a write would commit on its own)."""
    pooled = await _checkout(engine)
    try:
        yield pooled.driver_connection
    except BROKEN as exc:
        await greenlet_spawn(pooled.invalidate, exc)
        raise
    finally:
        if pooled.dbapi_connection is not None:  # not invalidated (that checked it in)
            await greenlet_spawn(pooled.close)
