"""`/servers`: register (seed 004), list (seed 004), get, update, delete. Everyone signed in
may look; registering, changing and removing servers is for admins, since a server's URL is
one our own processes will call. A server belongs to the tenant whose admin registered it and
only that tenant's admins change or remove it (anyone else: 404); the servers Conveyor's own
instances register belong to the operator (admins of the operator tenant), not to a tenant."""

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.netguard import UrlPolicy, UrlRefused
from libs.servers import repository as servers
from libs.servers.model import NewServer, Server, ServerType
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError
from services.gateway.idempotency.context import IDEMPOTENT_CREATE
from services.gateway.openapi import documented
from services.gateway.servers.dto import (
    RegisterServerBody,
    RegisterServerRequest,
    UpdateServerRequest,
)
from services.gateway.servers.planner import server_not_found, visible_task
from services.gateway.servers.presenters import server_view
from services.gateway.servers.schemas import (
    ServerDeleted,
    ServerView,
)
from services.gateway.settings import GatewaySettings


def require_admin(principal: Principal, action: str) -> None:
    if not principal.is_admin:
        raise ApiError(403, "FORBIDDEN", f"only an admin may {action}")


def owner_of(principal: Principal, settings: GatewaySettings) -> str | None:
    """Whose servers this admin registers and manages: the tenant's, or (None) the operator's."""
    return None if principal.tenant_name == settings.operator_tenant else principal.tenant_id


def require_owner(server: Server, principal: Principal, settings: GatewaySettings) -> None:
    if server.owner_tenant_id != owner_of(principal, settings):
        raise server_not_found(server.name)


async def _check_url(request: Request[Any, Any, Any], body: RegisterServerRequest) -> None:
    """A remote server's URL is called by our registry: it must pass the URL policy. A local
    server is reached through its queue; its URL is a label and only needs to be a URL."""
    policy: UrlPolicy = request.app.state.url_policy
    try:
        if body.type == ServerType.REMOTE.value:
            await policy.resolve(body.url)
        else:
            policy.check_syntax(body.url)
    except UrlRefused as exc:
        raise ApiError(400, "URL_REFUSED", f"url: {exc}",
                       [{"field": "url", "message": str(exc)}]) from None


async def _load(db: AsyncEngine, name: str) -> Server:
    async with db.connect() as conn:
        server = await servers.get_server(conn, name)
    if server is None:
        raise server_not_found(name)
    return server


class ServerController(Controller):
    path = "/servers"
    tags = ["servers"]

    @post("/register", status_code=200, summary="Register a server (admin)",
          responses=documented(ServerView, errors=(403, 409)),
          opt=IDEMPOTENT_CREATE)
    async def register(self, request: Request[Any, Any, Any], data: RegisterServerBody,
                       principal: Principal, db: AsyncEngine,
                       settings: GatewaySettings) -> dict[str, Any]:
        require_admin(principal, "register servers")
        await _check_url(request, data)
        async with db.begin() as conn:
            added = await servers.register(conn, NewServer(
                name=data.name, type=ServerType(data.type), url=data.url, enabled=data.enabled,
                batch_size=data.batch_size, owner_tenant_id=owner_of(principal, settings)))
        if not added:
            raise ApiError(409, "SERVER_EXISTS", f"a server named {data.name} already exists",
                           [{"field": "name", "message": "already exists"}])
        return server_view(await _load(db, data.name), principal)

    @get("/", summary="Every registered server with its status",
         responses=documented(list[ServerView]))
    async def list_servers(self, principal: Principal, db: AsyncEngine) -> list[dict[str, Any]]:
        async with db.connect() as conn:
            found = await servers.list_servers(conn)
        return [server_view(server, principal) for server in found]

    @get("/{name:str}", summary="One server", responses=documented(ServerView, errors=(404,)))
    async def get_server(self, name: str, principal: Principal,
                         db: AsyncEngine) -> dict[str, Any]:
        return server_view(await _load(db, name), principal)

    @patch("/{name:str}", summary="Enable, disable or resize a server (admin)",
           responses=documented(ServerView, errors=(403, 404)))
    async def update(self, name: str, data: UpdateServerRequest, principal: Principal,
                     db: AsyncEngine, settings: GatewaySettings) -> dict[str, Any]:
        require_admin(principal, "change servers")
        async with db.begin() as conn:
            found = await servers.update(conn, name, owner_tenant_id=owner_of(principal, settings),
                                         enabled=data.enabled, batch_size=data.batch_size)
        if not found:
            raise server_not_found(name)
        return server_view(await _load(db, name), principal)

    @delete("/{name:str}", status_code=200, summary="Unregister a server that is idle (admin)",
            responses=documented(ServerDeleted, errors=(403, 404, 409)))
    async def remove(self, name: str, principal: Principal, db: AsyncEngine,
                     settings: GatewaySettings) -> dict[str, Any]:
        require_admin(principal, "remove servers")
        server = await _load(db, name)
        require_owner(server, principal, settings)
        async with db.begin() as conn:
            deleted = await servers.delete(conn, name, owner_tenant_id=server.owner_tenant_id)
        if not deleted:
            raise ApiError(409, "SERVER_BUSY",
                           f"server {name} is running a task; cancel it or wait for it to end",
                           {"current_task_id": visible_task(server, principal)})
        return {"name": name, "deleted": True}
