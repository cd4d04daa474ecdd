"""Wires the codegen service: the provider the deployment chose, the capped render process, and
the worker runtime that consumes `codegen.items`."""

import asyncio
from functools import partial

import httpx

from libs.lifecycle import Runtime, Service
from libs.limiter import SharedLimiter
from libs.logging import get_logger
from libs.sandbox import Limits, SandboxPool
from libs.service import run_service
from libs.settings import load_settings
from libs.tasks.kinds import CODEGEN
from libs.worker.runtime import Worker
from proto.codegen import ProviderName
from services.codegen.handler import CodegenHandler
from services.codegen.providers.base import Provider
from services.codegen.providers.chat import ChatProvider
from services.codegen.providers.offline import OfflineProvider, warm_up
from services.codegen.settings import CodegenSettings

log = get_logger(__name__)


def _load_renderer() -> None:
    """In each render process, at start: templates, parser and checks imported once."""
    import services.codegen.project.checks  # noqa: F401


def provider_for(settings: CodegenSettings, runtime: Runtime) -> Provider:
    if settings.provider is ProviderName.OFFLINE:
        return OfflineProvider()
    if not settings.chat_base_url:
        raise ValueError("CONVEYOR_CODEGEN_PROVIDER=chat needs CONVEYOR_CODEGEN_CHAT_BASE_URL")
    http = httpx.AsyncClient(trust_env=False)
    runtime.exits.push_async_callback(http.aclose)
    limiter = SharedLimiter(runtime.db, f"codegen-chat:{settings.chat_base_url}",
                            settings.chat_concurrency)
    return ChatProvider(http, limiter, runtime.db, settings)


async def build(settings: CodegenSettings, runtime: Runtime) -> Service:
    await asyncio.get_running_loop().run_in_executor(None, warm_up)
    pool = SandboxPool(settings.render_processes, Limits(
        memory_bytes=settings.render_memory_mb * 2**20, cpu_s=settings.render_cpu_s,
        wall_s=settings.render_wall_s, max_output_bytes=settings.max_archive_bytes * 2),
        name="codegen-render", initializer=_load_renderer)
    runtime.exits.callback(pool.shutdown, cancel_futures=True)
    provider = provider_for(settings, runtime)
    handler = CodegenHandler(runtime.db, runtime.storage, provider, pool,
                             max_file_bytes=settings.max_file_bytes,
                             max_archive_bytes=settings.max_archive_bytes)
    worker = Worker(runtime, {CODEGEN.name: handler}, concurrency=settings.concurrency,
                    prefetch=settings.prefetch,
                    capabilities={"provider": provider.name.value,
                                  "ai_calls_per_hour": settings.ai_calls_per_hour})
    log.info("codegen.provider", provider=provider.name.value,
             model=settings.chat_model if provider.name is ProviderName.CHAT else None)
    return Service([worker], worker.capabilities)


def db_pool_size(settings: CodegenSettings) -> int:
    """The chat limiter holds one connection per slot it holds."""
    extra = settings.chat_concurrency + 2 if settings.provider is ProviderName.CHAT else 0
    return settings.db_pool_size + extra


def main() -> None:
    settings = load_settings(CodegenSettings, "codegen")
    run_service("codegen", settings, partial(build, settings),
                db_pool_size=db_pool_size(settings))
