"""Wires the scheduler: the engine applying result batches, the control wake-ups from the
gateway, and the sweep."""

from functools import partial

from libs.lifecycle import Loop, Runtime, Service
from libs.messaging.parts import BatchConsumer, QueueConsumer
from libs.messaging.topology import declare_control_queue, declare_results_queue
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from proto.control import TaskChanged
from proto.work import Report
from services.scheduler.control import ControlHandler
from services.scheduler.engine import Engine
from services.scheduler.sweeper import Sweeper


class SchedulerSettings(CommonSettings, kw_only=True):
    sweep_interval_s: float = 1.0
    retention_s: int = 24 * 3600  # seed 001: finished batches are cleaned up after 24 hours
    backoff_base_s: float = 1.0
    progress_interval_s: float = 0.25
    results_prefetch: int = 200
    results_batch: int = 100


async def build(settings: SchedulerSettings, runtime: Runtime) -> Service:
    engine = Engine(
        runtime.db, runtime.publisher, backoff_base_s=settings.backoff_base_s,
        progress_interval_s=settings.progress_interval_s,
    )
    sweeper = Sweeper(
        runtime.db, engine, runtime.storage, interval_s=settings.sweep_interval_s,
        retention_s=settings.retention_s,
    )
    return Service([
        BatchConsumer(runtime.connection, declare_results_queue, Report, engine.apply_reports,
                      prefetch=settings.results_prefetch, batch=settings.results_batch),
        QueueConsumer(runtime.connection, declare_control_queue, TaskChanged,
                      ControlHandler(runtime.db, engine), prefetch=10),
        Loop("sweeper", sweeper.run),
    ])


def main() -> None:
    settings = load_settings(SchedulerSettings, "scheduler")
    run_service("scheduler", settings, partial(build, settings))
