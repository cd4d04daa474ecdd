"""Wires the registry: heartbeats in, liveness sweep, instance status events out."""

import asyncio
import contextlib

from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.engine import create_engine
from libs.errors import Permanent
from libs.heartbeat import Heartbeater
from libs.logging import get_logger
from libs.messaging.connection import connect
from libs.messaging.consumer import consume
from libs.messaging.publisher import Outgoing, Publisher
from libs.messaging.topology import declare_heartbeat_queue
from libs.settings import CommonSettings
from libs.tasks.model import utcnow
from proto.events import InstanceStatusChanged
from proto.registry import Heartbeat
from proto.topology import EventKey, Exchange
from services.registry import repository as repo

log = get_logger(__name__)


class RegistrySettings(CommonSettings, kw_only=True):
    missed_beats: int = 3  # silent for this many intervals -> offline
    sweep_interval_s: float = 1.0
    forget_after_s: int = 7 * 24 * 3600


class Registry:
    def __init__(self, db: AsyncEngine, publisher: Publisher, settings: RegistrySettings) -> None:
        self._db = db
        self._publisher = publisher
        self._settings = settings

    async def on_heartbeat(self, beat: Heartbeat, _: AbstractIncomingMessage) -> None:
        try:
            async with self._db.begin() as conn:
                change = await repo.record_heartbeat(conn, beat)
        except Exception as exc:
            # A beat is only worth its freshness: drop it rather than requeue; the next one
            # arrives within an interval.
            raise Permanent(f"heartbeat not recorded: {exc!r}") from exc
        if change:
            await self._announce([change])

    async def sweep_forever(self) -> None:
        while True:
            try:
                async with self._db.begin() as conn:
                    changes = await repo.mark_silent_offline(conn, self._settings.missed_beats)
                    await repo.forget_stale(conn, self._settings.forget_after_s)
                await self._announce(changes)
            except Exception:
                log.exception("registry.sweep_failed")
            await asyncio.sleep(self._settings.sweep_interval_s)

    async def _announce(self, changes: list[repo.InstanceChange]) -> None:
        for change in changes:
            log.info("instance.status", instance=change.instance_id, status=change.status)
        await self._publisher.publish_many(
            Outgoing(
                Exchange.EVENTS,
                EventKey.instance(change.service, change.status),
                InstanceStatusChanged(
                    instance_id=change.instance_id, service=change.service, name=change.name,
                    status=change.status, occurred_at=utcnow().isoformat(),
                    capabilities=change.capabilities,
                ),
            )
            for change in changes
        )


async def run(settings: RegistrySettings, stopping: asyncio.Event) -> None:
    db = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    connection = await connect(settings.amqp_url, name=settings.instance("registry"))
    publisher = await Publisher.open(connection)
    registry = Registry(db, publisher, settings)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=50)
    await consume(await declare_heartbeat_queue(channel), Heartbeat, registry.on_heartbeat)
    sweeping = asyncio.create_task(registry.sweep_forever(), name="liveness-sweep")
    # The registry heartbeats like everyone else, through its own queue.
    heartbeat = Heartbeater(publisher, settings, "registry")
    heartbeat.start()
    log.info("registry.ready")
    await stopping.wait()
    log.info("service.stopping")
    sweeping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeping
    await heartbeat.stop()
    await connection.close()
    await db.dispose()
