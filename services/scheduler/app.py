"""Wires the scheduler: the engine applying result batches, the control wake-ups from the
gateway, and the sweep."""

from functools import partial

from libs.lifecycle import Loop, Runtime, Service
from libs.messaging.parts import BatchConsumer, QueueConsumer
from libs.messaging.topology import (
    declare_control_queue,
    declare_dead_work_queue,
    declare_results_queue,
)
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.tasks.relay import OutboxRelay
from libs.tasks.unit_of_work import TaskUnits
from proto.control import TaskChanged
from proto.work import Report, WorkMessage
from services.scheduler.control import ControlHandler
from services.scheduler.dead_letters import DeadLetterSettler
from services.scheduler.dispatching import CreditSettings, Dispatcher
from services.scheduler.engine import Engine
from services.scheduler.gauges import GaugeSampler
from services.scheduler.sweeper import Sweeper
from services.scheduler.upkeep import upkeep_forever


class SchedulerSettings(CommonSettings, kw_only=True):
    sweep_interval_s: float = 1.0
    retention_s: int = 24 * 3600  # seed 001: finished batches are cleaned up after 24 hours
    backoff_base_s: float = 1.0
    progress_interval_s: float = 0.25
    results_prefetch: int = 200
    results_batch: int = 100
    gauges_interval_s: float = 5.0
    upkeep_interval_s: float = 2.0  # ANALYZE/VACUUM of the task tables without autovacuum
    # Credit-based fair share (services/scheduler/dispatching.py): a route gets its workers'
    # slots (instances x concurrency, from heartbeats) plus this share of them in flight, at
    # least `credit_min_buffer` more; `default_credit` items while no worker reports. Off:
    # first come, first served (every task's window topped up), the benchmark's baseline.
    fair_share: bool = True
    credit_buffer_ratio: float = 0.25
    credit_min_buffer: int = 1
    default_credit: int = 100


async def build(settings: SchedulerSettings, runtime: Runtime) -> Service:
    relay = OutboxRelay(runtime.db, runtime.publisher, poll_s=settings.outbox_poll_s)
    units = TaskUnits(runtime.db, relay.kick)
    dispatcher = Dispatcher(
        CreditSettings(fair_share=settings.fair_share, buffer_ratio=settings.credit_buffer_ratio,
                       min_buffer=settings.credit_min_buffer,
                       default_credit=settings.default_credit),
        settings.tenant_defaults)
    engine = Engine(units, backoff_base_s=settings.backoff_base_s,
                    progress_interval_s=settings.progress_interval_s, dispatcher=dispatcher)
    sweeper = Sweeper(units, engine, runtime.storage, interval_s=settings.sweep_interval_s,
                      retention_s=settings.retention_s)
    gauges = GaugeSampler(runtime.db, runtime.connection, interval_s=settings.gauges_interval_s)
    runtime.exits.push_async_callback(gauges.close)
    return Service([
        relay,  # started first and drained last: what the other parts commit goes out
        BatchConsumer(runtime.connection, declare_results_queue, Report, engine.apply_reports,
                      prefetch=settings.results_prefetch, batch=settings.results_batch),
        QueueConsumer(runtime.connection, declare_control_queue, TaskChanged,
                      ControlHandler(units, engine), prefetch=10),
        # Each work queue's dead letters are bound to it where the queue is declared (by its
        # workers at start, by the engine before its first dispatch).
        QueueConsumer(runtime.connection, declare_dead_work_queue, WorkMessage,
                      DeadLetterSettler(engine), prefetch=10),
        Loop("sweeper", sweeper.run),
        Loop("gauges", gauges.run),
        Loop("upkeep", partial(upkeep_forever, runtime.db, settings.upkeep_interval_s)),
    ])


def main() -> None:
    settings = load_settings(SchedulerSettings, "scheduler")
    run_service("scheduler", settings, partial(build, settings))
