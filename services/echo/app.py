"""Wires echo: the worker runtime with the no-op item handler and its finalizer."""

from functools import partial

from libs.lifecycle import Runtime, Service
from libs.service import run_service
from libs.settings import CommonSettings, load_settings
from libs.worker.runtime import Worker
from services.echo.handler import echo, echo_finalize


class EchoSettings(CommonSettings, kw_only=True):
    concurrency: int = 1000
    prefetch: int = 20


async def build(settings: EchoSettings, runtime: Runtime) -> Service:
    worker = Worker(runtime, {"echo": echo}, concurrency=settings.concurrency,
                    prefetch=settings.prefetch, finalizers={"echo": echo_finalize})
    return Service([worker], worker.capabilities)


def main() -> None:
    settings = load_settings(EchoSettings, "echo")
    run_service("echo", settings, partial(build, settings))
