"""Which failures mean "a dependency is down, retry shortly" rather than "a bug".

A request that meets PostgreSQL restarting, RabbitMQ gone or S3 unreachable gets 503 with
`Retry-After`, whatever path raised the error: SQLAlchemy wraps driver errors in `DBAPIError`,
but the status path's own checkout (libs/db/driver.py) raises asyncpg's errors or `OSError`
as they are, the pool raises its own timeout, and the broker and storage clients raise theirs.
The classifier walks an error's causes, so a wrapped outage is found too."""

from __future__ import annotations

from typing import Literal

import aiormq.exceptions
import asyncpg
import urllib3.exceptions
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

Dependency = Literal["database", "broker", "storage", "network"]

# SQLSTATE classes of an unavailable database: connection exception, insufficient resources
# (too many connections), operator intervention (shutting down, restarting).
UNAVAILABLE_SQLSTATES = ("08", "53", "57")

_DATABASE_ERRORS = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, PoolTimeout)
_BROKER_ERRORS = (aiormq.exceptions.AMQPConnectionError, aiormq.exceptions.ChannelInvalidStateError)
_STORAGE_ERRORS = (urllib3.exceptions.MaxRetryError, urllib3.exceptions.ProtocolError,
                   urllib3.exceptions.TimeoutError)
_MAX_DEPTH = 8  # causes followed; a chain longer than this is not an outage we know


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE an error (or the driver error it wraps) carries, or ''."""
    candidates: list[BaseException | None] = [error]
    if isinstance(error, DBAPIError):
        candidates += [error.orig, getattr(error.orig, "__cause__", None)]
    for candidate in candidates:
        state = str(getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
                    or "")
        if state:
            return state
    return ""


def _direct(error: BaseException) -> Dependency | None:
    if isinstance(error, DBAPIError) and (
            error.connection_invalidated or sqlstate(error)[:2] in UNAVAILABLE_SQLSTATES):
        return "database"
    if isinstance(error, asyncpg.PostgresError) and sqlstate(error)[:2] in UNAVAILABLE_SQLSTATES:
        return "database"  # CannotConnectNowError, TooManyConnectionsError, AdminShutdown...
    if isinstance(error, _DATABASE_ERRORS):
        return "database"
    if isinstance(error, _BROKER_ERRORS):
        return "broker"
    if isinstance(error, _STORAGE_ERRORS):
        return "storage"
    if isinstance(error, (ConnectionError, OSError)) and not isinstance(
            error, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return "network"  # a socket refused or reset on the way to a dependency
    return None


def unavailable(error: BaseException) -> Dependency | None:
    """The dependency whose outage caused `error`, if an outage did."""
    seen: BaseException | None = error
    for _ in range(_MAX_DEPTH):
        if seen is None:
            return None
        found = _direct(seen)
        if found is not None:
            return found
        seen = seen.__cause__ or seen.__context__
    return None
