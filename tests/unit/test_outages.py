"""The gateway's outage classifier: every way a dependency's outage reaches a handler (wrapped
by SQLAlchemy or raw from the driver, the broker or storage) is an outage; a bug is not."""

from __future__ import annotations

import aiormq.exceptions
import asyncpg
import pytest
import urllib3.exceptions
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.gateway.outages import unavailable


def _wrapped(orig: BaseException, invalidated: bool = False) -> DBAPIError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def _caused_by(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("while reading") from cause
    except RuntimeError as error:
        return error


@pytest.mark.parametrize(("error", "dependency"), [
    (_wrapped(asyncpg.CannotConnectNowError("the database system is starting up")),
     "database"),
    (_wrapped(ValueError("x"), invalidated=True), "database"),
    (asyncpg.CannotConnectNowError("the database system is shutting down"), "database"),
    (asyncpg.AdminShutdownError("terminating connection"), "database"),
    (asyncpg.TooManyConnectionsError("too many clients"), "database"),
    (asyncpg.ConnectionDoesNotExistError("connection was closed"), "database"),
    (asyncpg.InterfaceError("connection is closed"), "database"),
    (PoolTimeout("QueuePool limit reached"), "database"),
    (ConnectionRefusedError(111, "Connection refused"), "network"),
    (ConnectionResetError(104, "reset by peer"), "network"),
    (aiormq.exceptions.AMQPConnectionError("gone"), "broker"),
    (urllib3.exceptions.MaxRetryError(None, "/bucket/key"), "storage"),  # type: ignore[arg-type]
    (_caused_by(ConnectionRefusedError(111, "Connection refused")), "network"),
])
def test_outages_are_recognised(error: BaseException, dependency: str) -> None:
    assert unavailable(error) == dependency


@pytest.mark.parametrize("error", [
    ValueError("bad"),
    KeyError("missing"),
    FileNotFoundError("/tmp/x"),
    _wrapped(asyncpg.UniqueViolationError("duplicate key")),
    asyncpg.UndefinedColumnError("column does not exist"),
])
def test_bugs_are_not_outages(error: BaseException) -> None:
    assert unavailable(error) is None
