"""The batch-server use cases: registered servers (register, list, change, remove), batches of
a workflow over the tenant's folders on a chosen server, and the tenant's files those batches
read and write. The only place this area opens database connections and transactions.

Registering, changing and removing servers is for admins, since a server's URL is one our own
processes will call. A server belongs to the tenant whose admin registered it: it runs only
that tenant's batches, only that tenant sees it, and only its admins change or remove it
(anyone else: 404, as for a name never registered). The servers Conveyor's own instances
register belong to the operator (admins of the operator tenant) and run everyone's batches;
so does an operator's remote server the operator marks `shared` (libs/servers/repository.py
states the rule)."""

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.netguard import UrlPolicy, UrlRefused
from libs.servers import repository as servers
from libs.servers.model import NewServer, Server, ServerType, Viewer, exclusivity_key
from libs.storage import Storage
from libs.tasks import creation, readers
from libs.tasks.kinds import SERVER_BATCH
from libs.tasks.model import Task
from proto.topology import server_route
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, server_not_found
from services.gateway.servers.dto import BatchRequest, RegisterServerRequest, UpdateServerRequest
from services.gateway.servers.paths import shown, tenant_root
from services.gateway.servers.planner import Plan, plan, visible_task
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.service import TaskService


def _require_admin(principal: Principal, action: str) -> None:
    if not principal.is_admin:
        raise ApiError(403, "FORBIDDEN", f"only an admin may {action}")


def _new_task(principal: Principal, body: BatchRequest, found: Plan) -> creation.NewTask:
    server, workflow = found.server, found.workflow
    root = tenant_root(principal.tenant_id)
    files = found.selection.files
    return creation.NewTask(
        tenant_id=principal.tenant_id, user_id=principal.user_id, kind=SERVER_BATCH,
        name=f"{workflow.name} on {server.name}: {len(files)} files",
        items=[creation.NewItem({"file": shown(f.path), "output": shown(f.output),
                                 "input_key": root + f.path, "output_key": root + f.output},
                                shown(f.folder)) for f in files],
        params={"server": server.name, "server_type": server.type.value,
                "workflow": msgspec.to_builtins(workflow),
                "target_folders": [shown(t) for t in found.targets],
                "folder_keywords": body.folder_keywords, "output_root": shown(found.output_root),
                "options": msgspec.to_builtins(body.options)},
        # batch_size files at a time on this server, through its own queue, one task at once.
        concurrency=server.batch_size, route=server_route(server.name),
        exclusivity_key=exclusivity_key(server.name), autostart=True,
        # A remote server gets a batch per request; a local one takes files one by one.
        pack_size=server.batch_size if server.type == ServerType.REMOTE else 1,
    )


class ServerService:
    def __init__(self, db: AsyncEngine, storage: Storage, task_service: TaskService,
                 settings: GatewaySettings, url_policy: UrlPolicy) -> None:
        self._db = db
        self._storage = storage
        self._tasks = task_service
        self._settings = settings
        self._policy = url_policy

    def _owner_of(self, principal: Principal) -> str | None:
        """Whose servers this admin registers and manages: the tenant's, or (None) the
        operator's."""
        return None if principal.tenant_name == self._settings.operator_tenant \
            else principal.tenant_id

    def _viewer(self, principal: Principal) -> Viewer:
        return Viewer(tenant_id=principal.tenant_id,
                      operator_tenant=self._settings.operator_tenant)

    def _check_shared(self, principal: Principal, shared: bool | None) -> None:
        """Sharing hands every tenant's files to the server: the operator's decision only."""
        if shared and self._owner_of(principal) is not None:
            raise ApiError(403, "FORBIDDEN", "only the operator may share a server with "
                           "every tenant", [{"field": "shared", "message": "operator only"}])

    async def _check_url(self, body: RegisterServerRequest) -> None:
        """A remote server's URL is called by our registry: it must pass the URL policy. A
        local server is reached through its queue; its URL is a label and only needs to be a
        URL."""
        try:
            if body.type == ServerType.REMOTE.value:
                await self._policy.resolve(body.url)
            else:
                self._policy.check_syntax(body.url)
        except UrlRefused as exc:
            raise ApiError(400, "URL_REFUSED", f"url: {exc}",
                           [{"field": "url", "message": str(exc)}]) from None

    async def get(self, principal: Principal, name: str) -> Server:
        async with self._db.connect() as conn:
            server = await servers.get_server(conn, name, self._viewer(principal))
        if server is None:
            raise server_not_found(name)
        return server

    async def servers(self, principal: Principal) -> list[Server]:
        async with self._db.connect() as conn:
            return await servers.list_servers(conn, self._viewer(principal))

    async def register(self, principal: Principal, body: RegisterServerRequest) -> Server:
        _require_admin(principal, "register servers")
        self._check_shared(principal, body.shared)
        await self._check_url(body)
        async with self._db.begin() as conn:
            added = await servers.register(conn, NewServer(
                name=body.name, type=ServerType(body.type), url=body.url, enabled=body.enabled,
                batch_size=body.batch_size, owner_tenant_id=self._owner_of(principal),
                shared=body.shared))
        if not added:
            raise ApiError(409, "SERVER_EXISTS", f"a server named {body.name} already exists",
                           [{"field": "name", "message": "already exists"}])
        return await self.get(principal, body.name)

    async def update(self, principal: Principal, name: str,
                     body: UpdateServerRequest) -> Server:
        _require_admin(principal, "change servers")
        self._check_shared(principal, body.shared)
        async with self._db.begin() as conn:
            found = await servers.update(conn, name, owner_tenant_id=self._owner_of(principal),
                                         enabled=body.enabled, batch_size=body.batch_size,
                                         shared=body.shared)
        if not found:
            raise server_not_found(name)
        return await self.get(principal, name)

    async def remove(self, principal: Principal, name: str) -> None:
        _require_admin(principal, "remove servers")
        server = await self.get(principal, name)
        if server.owner_tenant_id != self._owner_of(principal):
            raise server_not_found(server.name)
        async with self._db.begin() as conn:
            deleted = await servers.delete(conn, name, owner_tenant_id=server.owner_tenant_id)
        if not deleted:
            raise ApiError(409, "SERVER_BUSY",
                           f"server {name} is running a task; cancel it or wait for it to end",
                           {"current_task_id": visible_task(server, principal)})

    # --- batches --------------------------------------------------------------------------

    async def plan(self, principal: Principal, body: BatchRequest, *,
                   unavailable_status: int) -> Plan:
        return await plan(await self.servers(principal), self._storage, principal, body,
                          unavailable_status=unavailable_status)

    async def process(self, principal: Principal, body: BatchRequest) -> tuple[Task, Plan]:
        found = await self.plan(principal, body, unavailable_status=503)
        try:
            return await self._tasks.create(_new_task(principal, body, found)), found
        except creation.ExclusivityConflict:
            raise ApiError(503, "SERVER_BUSY",
                           f"server {found.server.name} is busy with another task") from None

    async def batch_task(self, principal: Principal, task_id: str) -> Task:
        return await self._tasks.get(principal, task_id, kind=SERVER_BATCH.name)

    async def batch_tasks(self, principal: Principal, *, offset: int, limit: int) -> list[Task]:
        async with self._db.connect() as conn:
            return await readers.list_tasks(conn, readers.TaskFilter(
                tenant_id=principal.tenant_id, user_id=principal.owner_filter,
                kind=SERVER_BATCH.name), offset=offset, limit=limit)

    async def cancel(self, principal: Principal, task_id: str) -> Task:
        return await self._tasks.cancel(principal, task_id, SERVER_BATCH.name)
