"""Wires the registry: heartbeats in, liveness sweep, instance status events out; and for seed
004's servers the watch loop (health, status events, waiting tasks) and the remote bridge."""

import asyncio
from functools import partial

from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import Permanent
from libs.lifecycle import Loop, Runtime, Service
from libs.logging import get_logger
from libs.messaging.parts import QueueConsumer
from libs.messaging.publisher import Outgoing, Publisher
from libs.messaging.topology import declare_heartbeat_queue
from libs.netguard import UrlPolicy
from libs.servers import repository as servers
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.tasks.kinds import SERVER_BATCH
from libs.tasks.model import utcnow
from libs.worker.reporter import ResultReporter
from proto.events import InstanceStatusChanged
from proto.registry import Heartbeat
from services.registry import repository as repo
from services.registry.servers.bridge import RemoteBridge
from services.registry.servers.remote_batch import BridgeSettings
from services.registry.servers.watch import ServerWatch

log = get_logger(__name__)


class RegistrySettings(CommonSettings, kw_only=True):
    missed_beats: int = 3  # silent for this many intervals -> offline
    sweep_interval_s: float = 1.0
    forget_after_s: int = 7 * 24 * 3600
    # Remote servers: checked this often; offline after this many failed checks in a row.
    health_interval_s: float = 5.0
    health_timeout_s: float = 3.0
    offline_after_failures: int = 2
    remote_poll_interval_s: float = 1.0
    # How long the presigned URLs of one remote batch stay valid: long enough to fetch the
    # inputs and upload the outputs of a batch, short enough that a leaked URL soon dies (a
    # file whose URL expired fails retryably and gets fresh URLs in its next batch).
    remote_presign_ttl_s: int = 600
    # A task waiting for its server says so again (and extends its items' leases) this often.
    waiting_report_every_s: float = 60.0


class Registry:
    def __init__(self, db: AsyncEngine, publisher: Publisher, settings: RegistrySettings) -> None:
        self._db = db
        self._publisher = publisher
        self._settings = settings

    async def on_heartbeat(self, beat: Heartbeat, _: AbstractIncomingMessage) -> None:
        try:
            async with self._db.begin() as conn:
                change = await repo.record_heartbeat(conn, beat)
                server = beat.capabilities.get("server")
                if change and change.status == "online" and isinstance(server, str):
                    # A worker that runs workflows under its own name is a local server.
                    await servers.ensure_local(conn, server, int(beat.capabilities.get(
                        "batch_size", SERVER_BATCH.concurrency)))
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
            Outgoing.event(InstanceStatusChanged(
                instance_id=change.instance_id, service=change.service, name=change.name,
                status=change.status, occurred_at=utcnow().isoformat(),
                capabilities=change.capabilities))
            for change in changes
        )


async def build(settings: RegistrySettings, runtime: Runtime) -> Service:
    registry = Registry(runtime.db, runtime.publisher, settings)
    reporter = ResultReporter(runtime.publisher, runtime.instance_id)
    policy = UrlPolicy.from_setting(settings.server_url_allowlist)
    bridge = RemoteBridge(runtime.connection, runtime.db, runtime.storage, reporter, policy,
                          BridgeSettings(poll_interval_s=settings.remote_poll_interval_s,
                                         presign_ttl_s=settings.remote_presign_ttl_s,
                                         operator_tenant=settings.operator_tenant,
                                         keepalive_s=settings.waiting_report_every_s),
                          timeout_s=settings.health_timeout_s * 2)
    watch = ServerWatch(runtime.db, runtime.publisher, reporter, bridge, policy,
                        interval_s=settings.health_interval_s,
                        timeout_s=settings.health_timeout_s,
                        offline_after=settings.offline_after_failures,
                        waiting_report_every_s=settings.waiting_report_every_s)
    # After the loops stopped: the remote consumers and the watch's HTTP clients.
    runtime.exits.push_async_callback(watch.close)
    runtime.exits.push_async_callback(bridge.close)
    # The registry heartbeats like everyone else, through its own queue.
    return Service([
        reporter,
        QueueConsumer(runtime.connection, declare_heartbeat_queue, Heartbeat,
                      registry.on_heartbeat, prefetch=50),
        Loop("liveness-sweep", registry.sweep_forever),
        Loop("servers-watch", watch.run_forever),
    ])


def main() -> None:
    settings = load_settings(RegistrySettings, "registry")
    run_service("registry", settings, partial(build, settings))
