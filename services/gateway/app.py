"""The gateway's Litestar app: factory and lifespan (database, broker, event hub)."""

import contextlib
import gc
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import structlog
import uvicorn
from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from libs.heap import map_large_blocks
from libs.lifecycle import Runtime, Service, running
from libs.logging import configure_logging
from libs.messaging.parts import QueueConsumer
from libs.messaging.rpc import RpcClient
from libs.netguard import UrlPolicy
from libs.observability import endpoint, metrics, tracing
from libs.observability.asgi import new_request_id, observe_http
from libs.settings import load_settings
from libs.tasks.relay import OutboxRelay
from libs.tasks.unit_of_work import TaskUnits
from proto.auth import TokenRevoked
from proto.events import TaskEvent
from services.gateway.auth.failures import FailedTokens
from services.gateway.auth.middleware import PUBLIC_PATHS, BearerAuthMiddleware, TokenCache
from services.gateway.auth.revocations import Revocations
from services.gateway.boundary import InputBoundaryMiddleware
from services.gateway.codegen.routes import CODEGEN_HANDLERS
from services.gateway.codegen.service import CodegenService
from services.gateway.console import routes as console
from services.gateway.deps import DEPENDENCIES
from services.gateway.documents.routes import DOCUMENT_HANDLERS
from services.gateway.documents.sandboxes import UploadSandboxes
from services.gateway.documents.service import DocumentService
from services.gateway.errors import EXCEPTION_HANDLERS
from services.gateway.health.routes import HEALTH_HANDLERS
from services.gateway.health.service import HealthService
from services.gateway.idempotency.middleware import IdempotencyMiddleware
from services.gateway.idempotency.service import IdempotencyKeys
from services.gateway.kb.routes import KB_HANDLERS
from services.gateway.kb.service import KnowledgeBaseService
from services.gateway.openapi import COMPONENTS, SECURITY
from services.gateway.security_headers import security_headers
from services.gateway.servers.routes import SERVER_HANDLERS
from services.gateway.servers.service import ServerService
from services.gateway.settings import GatewaySettings
from services.gateway.slides.routes import SLIDE_HANDLERS
from services.gateway.slides.service import SlideService
from services.gateway.stream.hub import EventHub
from services.gateway.stream.routes import STREAM_HANDLERS
from services.gateway.stream.service import StreamService
from services.gateway.tasks.routes import TASK_HANDLERS
from services.gateway.tasks.service import TaskService
from services.gateway.workers import serve_workers, worker_settings


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Every request gets an id: in the logs of every line it causes, in the error envelope,
    in the `X-Request-ID` response header, and as the correlation id of what it publishes."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["started"] = time.perf_counter()
        # The outer access-log layer (libs/observability/asgi.py) named it and bound it to the
        # log context already, unless the app runs without that layer (some tests).
        request_id = state.get("request_id")
        outer_named_it = request_id is not None
        if request_id is None:
            request_id = state["request_id"] = new_request_id()
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        if outer_named_it:
            await app(scope, receive, send_with_id)
            return
        with structlog.contextvars.bound_contextvars(correlation_id=request_id):
            await app(scope, receive, send_with_id)

    return middleware


async def build(settings: GatewaySettings, state: State, runtime: Runtime) -> Service:
    """The gateway's composition root: each API area's service, built once over the process's
    runtime and put in the app state, from where handlers receive them by dependency
    injection (`deps.py`)."""
    await runtime.storage.ensure_bucket()
    db, storage = runtime.db, runtime.storage
    hub = EventHub()
    token_cache = TokenCache(db)
    url_policy = UrlPolicy.from_setting(settings.server_url_allowlist)
    rpc = await RpcClient.open(runtime.connection)
    relay = OutboxRelay(db, runtime.publisher, poll_s=settings.outbox_poll_s)
    tasks = TaskService(TaskUnits(db, relay.kick), settings.tenant_defaults)
    sandboxes = UploadSandboxes.start()
    runtime.exits.callback(sandboxes.shutdown)
    state.update(
        settings=settings, storage=storage, token_cache=token_cache,
        failed_tokens=FailedTokens(settings.failed_tokens_per_minute),
        task_service=tasks,
        document_service=DocumentService(db, storage, tasks, sandboxes),
        kb_service=KnowledgeBaseService(db, storage, rpc, tasks, settings),
        server_service=ServerService(db, storage, tasks, settings, url_policy),
        slide_service=SlideService(db, tasks, hub),
        codegen_service=CodegenService(db, storage, tasks),
        stream_service=StreamService(hub, tasks),
        health_service=HealthService(db, settings.tenant_defaults),
        idempotency_keys=IdempotencyKeys(db),  # read by its middleware, not by handlers
    )
    revocations = Revocations(token_cache, hub)
    return Service([
        relay,  # started first and drained last: what requests commit goes out
        QueueConsumer(runtime.connection, hub.declare, TaskEvent, hub.dispatch, prefetch=500),
        QueueConsumer(runtime.connection, revocations.declare, TokenRevoked,
                      revocations.on_revoked, prefetch=50),
    ])


def create_app(settings: GatewaySettings) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # No pre-ping: status polls are the gateway's hot path (one statement each).
        try:
            # Metrics only on the observability port (shared by the workers), never the public.
            async with endpoint.serving(settings.metrics_host, settings.metrics_port,
                                        reuse_port=settings.workers > 1), \
                    running(settings, "gateway", partial(build, settings, app.state),
                            pre_ping=False):
                # What exists now (the app, its routes and schemas, the libraries: ~150,000
                # objects) lives as long as the process: out of the collector's sight, a full
                # collection no longer pauses requests for tens of milliseconds.
                gc.freeze()
                yield
        finally:
            metrics.process_exiting()  # a worker's live gauges leave the multiprocess sums

    openapi = OpenAPIConfig(
        title="Conveyor",
        version="0.1.0",
        description="Long-running batch jobs: submit, watch, control, download.",
        path="/",
        components=COMPONENTS,
        security=SECURITY,
        render_plugins=console.docs_plugins(),
    )
    handlers: list[Any] = [*HEALTH_HANDLERS, *TASK_HANDLERS, *SLIDE_HANDLERS, *STREAM_HANDLERS,
                           *DOCUMENT_HANDLERS, *SERVER_HANDLERS, *KB_HANDLERS, *CODEGEN_HANDLERS,
                           console.console_router(settings)]
    return Litestar(
        route_handlers=handlers,
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            request_id_middleware,
            DefineMiddleware(BearerAuthMiddleware,
                             exclude=[*PUBLIC_PATHS, *console.PUBLIC_PATHS]),
            DefineMiddleware(InputBoundaryMiddleware, max_body_bytes=settings.max_body_bytes),
            DefineMiddleware(IdempotencyMiddleware, max_body_bytes=settings.max_body_bytes),
        ],
        lifespan=[lifespan],
        before_request=console.redirect_root,
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # structlog, configured in main()
    )


def _server_options(settings: GatewaySettings) -> dict[str, Any]:
    return dict(
        host=settings.host, port=settings.port, loop="uvloop",
        http="httptools",  # the C parser: ~2x h11's requests per second
        log_config=None, access_log=False, ws="websockets-sansio", ws_max_size=64 * 1024,
        timeout_graceful_shutdown=10,
    )


def _observed_app(settings: GatewaySettings) -> Any:
    map_large_blocks()  # uploads of several MB leave no grown heap behind (libs/heap.py)
    configure_logging("gateway", json_logs=settings.json_logs, level=settings.log_level)
    tracing.configure("gateway", settings)
    app: Any = create_app(settings)  # an ASGI app, typed by Litestar more narrowly
    return observe_http(security_headers(app))


def worker_app() -> Any:
    """One of several gateway processes: uvicorn's supervisor imports and calls this in each
    worker it starts (services/gateway/workers.py)."""
    return _observed_app(worker_settings(load_settings(GatewaySettings, "gateway")))


def main() -> None:
    settings = load_settings(GatewaySettings, "gateway")
    if settings.workers > 1:
        configure_logging("gateway", json_logs=settings.json_logs, level=settings.log_level)
        serve_workers(settings, _server_options(settings))
        return
    uvicorn.run(_observed_app(settings), **_server_options(settings))
