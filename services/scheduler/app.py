"""Wires the scheduler: broker, database, consumers, sweeper, heartbeat."""

import asyncio
import contextlib

from libs.db.engine import create_engine
from libs.heartbeat import Heartbeater
from libs.logging import get_logger
from libs.messaging.connection import connect
from libs.messaging.consumer import consume, consume_batches
from libs.messaging.publisher import Publisher
from libs.messaging.topology import (
    declare_control_queue,
    declare_dead_work_queue,
    declare_results_queue,
)
from libs.observability import probes
from libs.settings import CommonSettings
from libs.storage import Storage
from proto.control import TaskChanged
from proto.work import Report, WorkMessage
from services.scheduler.control import ControlHandler
from services.scheduler.dead_letters import DeadLetterSettler
from services.scheduler.engine import Engine
from services.scheduler.gauges import GaugeSampler
from services.scheduler.sweeper import Sweeper

log = get_logger(__name__)


class SchedulerSettings(CommonSettings, kw_only=True):
    sweep_interval_s: float = 1.0
    retention_s: int = 24 * 3600  # seed 001: finished batches are cleaned up after 24 hours
    backoff_base_s: float = 1.0
    progress_interval_s: float = 0.25
    results_prefetch: int = 200
    results_batch: int = 100
    gauges_interval_s: float = 5.0


async def run(settings: SchedulerSettings, stopping: asyncio.Event) -> None:
    db = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    connection = await connect(settings.amqp_url, name=settings.instance("scheduler"))
    publisher = await Publisher.open(connection)
    engine = Engine(
        db, publisher, backoff_base_s=settings.backoff_base_s,
        progress_interval_s=settings.progress_interval_s,
    )
    storage = Storage(settings)
    sweeper = Sweeper(
        db, engine, storage, interval_s=settings.sweep_interval_s,
        retention_s=settings.retention_s,
    )
    heartbeat = Heartbeater(publisher, settings, "scheduler")

    results_channel = await connection.channel()
    await results_channel.set_qos(prefetch_count=settings.results_prefetch)
    drain = await consume_batches(
        await declare_results_queue(results_channel), Report, engine.apply_reports,
        max_batch=settings.results_batch,
    )
    control_channel = await connection.channel()
    await control_channel.set_qos(prefetch_count=10)
    await consume(await declare_control_queue(control_channel), TaskChanged,
                  ControlHandler(db, engine))
    dead_channel = await connection.channel()
    await dead_channel.set_qos(prefetch_count=10)
    # Each work queue's dead letters are bound to it where the queue is declared (by its
    # workers at start, by the engine before its first dispatch).
    await consume(await declare_dead_work_queue(dead_channel), WorkMessage,
                  DeadLetterSettler(engine))
    sweeping = asyncio.create_task(sweeper.run(), name="sweeper")
    gauges = GaugeSampler(db, connection, interval_s=settings.gauges_interval_s)
    sampling = asyncio.create_task(gauges.run(), name="gauges")
    heartbeat.start()
    probes.add_standard(db, connection, storage)
    log.info("scheduler.ready")
    await stopping.wait()
    log.info("service.stopping")
    for task in (sweeping, drain, sampling):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await gauges.close()
    await heartbeat.stop()
    await connection.close()
    await db.dispose()
