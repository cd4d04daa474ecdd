"""Wires echo: the worker runtime with the no-op item handler and its finalizer."""

from functools import partial

from libs.lifecycle import Runtime, Service
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.worker.runtime import Worker
from services.echo.handler import echo, echo_finalize, echo_finalize_with_crash_drill


class EchoSettings(CommonSettings, kw_only=True):
    concurrency: int = 1000
    prefetch: int = 20
    crash_drills: bool = False  # fault drills only: see echo_finalize_with_crash_drill


async def build(settings: EchoSettings, runtime: Runtime) -> Service:
    finalize = echo_finalize_with_crash_drill if settings.crash_drills else echo_finalize
    worker = Worker(runtime, {"echo": echo}, concurrency=settings.concurrency,
                    prefetch=settings.prefetch, finalizers={"echo": finalize})
    return Service([worker], worker.capabilities)


def main() -> None:
    settings = load_settings(EchoSettings, "echo")
    run_service("echo", settings, partial(build, settings))
