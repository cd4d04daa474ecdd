"""The status poll on the pooled connection's driver (libs/db/driver.py): the same task and
stages as the SQLAlchemy readers, scoped by tenant and user, outside a transaction, and
connections PostgreSQL closed are skipped or dropped rather than handed out again."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.driver import BROKEN, DriverConnection
from libs.db.engine import create_engine
from libs.tasks import creation, readers
from libs.tasks.kinds import ECHO
from tests.harness.tenants import new_tenant


async def _task(db: AsyncEngine) -> tuple[str, str, str]:
    async with db.begin() as conn:
        tenant, user = await new_tenant(conn, "status")
        task = await creation.insert_task(conn, creation.NewTask(
            tenant_id=str(tenant), user_id=str(user), kind=ECHO, name="polled",
            items=[creation.NewItem({"value": 1})],
            stages=(("items", "Items"), ("finalize", "Finalizing"))))
    return task.id, str(tenant), str(user)


async def _status(db: AsyncEngine, task_id: str, tenant: str, user: str | None) -> Any:
    async with DriverConnection(db) as driver:
        return await readers.get_task_with_stages(driver, task_id, tenant_id=tenant,
                                                  user_id=user)


async def test_the_status_read_matches_the_readers_and_is_scoped(database_url: str) -> None:
    db = create_engine(database_url, pool_size=2, pre_ping=False)
    try:
        task_id, tenant, user = await _task(db)
        found = await _status(db, task_id, tenant, user)
        assert found is not None
        task, stages = found
        async with db.connect() as conn:
            assert task == await readers.get_task(conn, task_id, tenant_id=tenant)
            assert stages == await readers.get_stages(conn, task_id)
        assert [s.name for s in stages] == ["items", "finalize"] and stages[0].metadata == {}
        assert (await _status(db, task_id, tenant, None)) == found  # an admin: any user
        assert await _status(db, task_id, tenant, str(uuid.uuid4())) is None  # another user
        assert await _status(db, task_id, str(uuid.uuid4()), None) is None  # another tenant
        assert await _status(db, "not-a-uuid", tenant, None) is None
        async with DriverConnection(db) as driver:  # autocommit: no transaction left open
            assert not driver.is_in_transaction()
    finally:
        await db.dispose()


async def _terminate_backends(database_url: str, pids: set[int]) -> None:
    """From a connection of its own (not the pool's)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid",
                           sorted(pids))
    finally:
        await conn.close()


async def test_connections_postgresql_closed_are_not_handed_out(database_url: str) -> None:
    """What the pre-ping did, without its round trip: the pooled connections' backends are
    terminated (as by a PostgreSQL restart); the next reads skip them and succeed."""
    db = create_engine(database_url, pool_size=2, pre_ping=False)
    try:
        task_id, tenant, user = await _task(db)
        async with DriverConnection(db) as a, DriverConnection(db) as b:
            pids = {a.get_server_pid(), b.get_server_pid()}
            drivers = [a, b]
        await _terminate_backends(database_url, pids)
        deadline = time.monotonic() + 10
        while not all(d.is_closed() for d in drivers):  # the server's goodbye arrives
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        for _ in range(4):
            assert await _status(db, task_id, tenant, user) is not None
    finally:
        await db.dispose()


async def test_a_connection_broken_mid_statement_is_dropped(database_url: str) -> None:
    db = create_engine(database_url, pool_size=1, pre_ping=False)
    try:
        task_id, tenant, user = await _task(db)
        # The connection error, or (the server's goodbye racing the statement) asyncpg's
        # client state error.
        with pytest.raises((*BROKEN, asyncpg.InternalClientError)):
            async with DriverConnection(db) as driver:
                pid = driver.get_server_pid()
                await _terminate_backends(database_url, {pid})
                await driver.fetchval("SELECT pg_sleep(0.5)")  # the backend is gone
        async with DriverConnection(db) as driver:
            assert driver.get_server_pid() != pid
        assert await _status(db, task_id, tenant, user) is not None
    finally:
        await db.dispose()


async def test_an_error_the_server_reports_keeps_the_connection(database_url: str) -> None:
    db = create_engine(database_url, pool_size=1, pre_ping=False)
    try:
        async with DriverConnection(db) as driver:
            pid = driver.get_server_pid()
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with DriverConnection(db) as driver:
                await driver.fetchval("SELECT 1 / 0")
        async with DriverConnection(db) as driver:
            assert driver.get_server_pid() == pid and await driver.fetchval("SELECT 1") == 1
    finally:
        await db.dispose()
