"""The gateway's Litestar app: factory and lifespan (database, broker, event hub)."""

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from libs.db.engine import create_engine
from libs.heartbeat import Heartbeater
from libs.messaging.connection import connect
from libs.messaging.publisher import Publisher
from libs.messaging.rpc import RpcClient
from libs.netguard import UrlPolicy
from libs.observability import probes
from libs.storage import Storage
from services.gateway.auth.middleware import PUBLIC_PATHS, BearerAuthMiddleware, TokenCache
from services.gateway.auth.revocations import follow_revocations
from services.gateway.boundary import InputBoundaryMiddleware
from services.gateway.console import routes as console
from services.gateway.deps import DEPENDENCIES
from services.gateway.documents import DOCUMENT_HANDLERS
from services.gateway.errors import EXCEPTION_HANDLERS
from services.gateway.health import health, health_instances
from services.gateway.idempotency.middleware import IdempotencyMiddleware
from services.gateway.kb.kb_routes import KnowledgeBaseController
from services.gateway.kb.search_routes import search
from services.gateway.kb.sync_routes import KnowledgeBaseSyncController, SyncTaskController
from services.gateway.openapi import COMPONENTS, SECURITY
from services.gateway.servers import SERVER_HANDLERS
from services.gateway.settings import GatewaySettings
from services.gateway.slides.routes import slide_router
from services.gateway.stream.hub import EventHub
from services.gateway.stream.routes import STREAM_HANDLERS
from services.gateway.tasks.commands import TaskCommands
from services.gateway.tasks.routes import task_router


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Every request gets an id: in the logs of every line it causes, in the error envelope,
    in the `X-Request-ID` response header, and as the correlation id of what it publishes."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # The outer access-log layer (libs/observability/asgi.py) usually named it already.
        request_id = state.setdefault("request_id", f"req_{uuid.uuid4().hex[:16]}")
        state["started"] = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=request_id):
            await app(scope, receive, send_with_id)

    return middleware


def create_app(settings: GatewaySettings) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        connection = await connect(settings.amqp_url, name=settings.instance("gateway"))
        publisher = await Publisher.open(connection)
        hub = EventHub()
        await hub.start(connection)
        heartbeat = Heartbeater(publisher, settings, "gateway")
        heartbeat.start()
        storage = Storage(settings)
        await storage.ensure_bucket()
        rpc = await RpcClient.open(connection)
        token_cache = TokenCache(db)
        await follow_revocations(connection, token_cache, hub)
        app.state.update(db=db, publisher=publisher, hub=hub, settings=settings, storage=storage,
                         commands=TaskCommands(db, publisher), token_cache=token_cache,
                         url_policy=UrlPolicy.from_setting(settings.server_url_allowlist),
                         rpc=rpc)
        probes.add_standard(db, connection, storage)
        try:
            yield
        finally:
            await heartbeat.stop()
            await connection.close()
            await db.dispose()

    openapi = OpenAPIConfig(
        title="Conveyor",
        version="0.1.0",
        description="Long-running batch jobs: submit, watch, control, download.",
        path="/",
        components=COMPONENTS,
        security=SECURITY,
        render_plugins=console.docs_plugins(),
    )
    handlers: list[Any] = [health, health_instances, task_router, slide_router, *STREAM_HANDLERS,
                           *DOCUMENT_HANDLERS, *SERVER_HANDLERS, KnowledgeBaseController,
                           KnowledgeBaseSyncController, SyncTaskController, search,
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
        logging_config=None,  # structlog, configured in __main__
    )
