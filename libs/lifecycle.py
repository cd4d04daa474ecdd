"""One lifecycle for every service process: connect (database, broker, storage), check that the
database schema is migrated, start the service's parts, heartbeat, serve until asked to stop,
drain (stop taking work, finish what is in flight), close.

A service's `app.py` says only what it runs: a `build(runtime)` that wires its parts from the
shared `Runtime` and returns them as a `Service`. The gateway runs the same lifecycle inside
its Litestar lifespan; every other process through `libs.service.run_service`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.engine import create_engine
from libs.db.schema_check import check_migrated
from libs.heartbeat import Heartbeater
from libs.logging import get_logger
from libs.messaging.connection import connect
from libs.messaging.publisher import Publisher
from libs.observability import probes
from libs.settings import CommonSettings
from libs.storage import Storage

log = get_logger(__name__)


@dataclass(slots=True)
class Runtime:
    """What a process connects to, opened once and handed to everything it runs: one database
    pool, one broker connection (parts open channels on it), one publisher, one storage client.
    `exits` takes the service's own resources (process pools, HTTP clients), released after the
    parts drained, last in first out."""

    settings: CommonSettings
    service: str
    db: AsyncEngine
    connection: AbstractRobustConnection
    publisher: Publisher
    storage: Storage
    exits: contextlib.AsyncExitStack

    @property
    def instance_id(self) -> str:
        return self.settings.instance(self.service)


class Part(Protocol):
    """Something a service runs: started in order, drained in reverse order."""

    async def start(self) -> None: ...

    async def drain(self) -> None: ...


@dataclass(slots=True)
class Loop:
    """A background loop that runs for the life of the process and is cancelled on drain."""

    name: str
    body: Callable[[], Awaitable[None]]
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def run() -> None:
            await self.body()

        self._task = asyncio.create_task(run(), name=self.name)

    async def drain(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass(slots=True)
class Service:
    """What a service's `build` returns: its parts and what its heartbeat announces."""

    parts: Sequence[Part]
    capabilities: dict[str, Any] = field(default_factory=dict)


Build = Callable[[Runtime], Awaitable[Service]]


async def _drain(parts: Sequence[Part]) -> None:
    for part in reversed(parts):
        try:
            await part.drain()
        except Exception:  # one part failing to drain must not keep the others open
            log.exception("service.drain_failed", part=type(part).__name__)


@contextlib.asynccontextmanager
async def running(
    settings: CommonSettings, service: str, build: Build, *, db_pool_size: int | None = None,
    pre_ping: bool = True,
) -> AsyncIterator[tuple[Runtime, Service]]:
    """Connect, check the schema, build the service, heartbeat, start its parts; on exit
    drain, say goodbye to the registry and close everything, whatever failed on the way.
    `pre_ping=False` (the gateway's read path) saves a round trip per checkout: see
    libs/db/engine.py."""
    async with contextlib.AsyncExitStack() as exits:
        db = create_engine(settings.database_url,
                           pool_size=db_pool_size or settings.db_pool_size, pre_ping=pre_ping)
        exits.push_async_callback(db.dispose)
        await check_migrated(db)
        connection = await connect(settings.amqp_url, name=settings.instance(service))
        exits.push_async_callback(connection.close)
        runtime = Runtime(settings=settings, service=service, db=db, connection=connection,
                          publisher=await Publisher.open(connection), storage=Storage(settings),
                          exits=exits)
        built = await build(runtime)
        started: list[Part] = []
        heartbeat = Heartbeater(runtime.publisher, settings, service, built.capabilities)
        # The first beat goes out before the parts start, as it always did: by the time a
        # part logs that it is ready, the registry has the instance (and a named worker's
        # local server) on record.
        await heartbeat.start()
        try:
            for part in built.parts:
                await part.start()
                started.append(part)
            # Ready once every part runs: PostgreSQL, RabbitMQ and S3 must answer too (a
            # service's own checks, e.g. an office pool, were added by its build).
            probes.add_standard(db, connection, runtime.storage)
            log.info("service.ready", service=service, instance=runtime.instance_id)
            yield runtime, built
        finally:
            log.info("service.stopping")
            await _drain(started)
            await heartbeat.stop()


async def run_until_stopped(
    settings: CommonSettings, service: str, build: Build, stopping: asyncio.Event, *,
    db_pool_size: int | None = None,
) -> None:
    async with running(settings, service, build, db_pool_size=db_pool_size):
        await stopping.wait()
