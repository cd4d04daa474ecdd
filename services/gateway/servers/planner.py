"""Turns a batch request into a plan, or the error that says what is wrong, in the order a
client can act on: the server (404), the workflow (404), the server's availability (400 for
check-server, 503 for process), whether it runs the workflow (400), the folders (400).
`POST /batch/check-server` is this plan without the task; `POST /batch/process` creates it."""

from dataclasses import dataclass

from libs.servers.model import Server, ServerStatus, ServerType
from libs.storage import Storage
from libs.tasks.kinds import SERVER_BATCH
from libs.workflows import BUILT_IN, Workflow
from services.gateway.auth.repository import Principal
from services.gateway.errors import ApiError, server_not_found, validation_error
from services.gateway.servers.dto import BatchRequest
from services.gateway.servers.paths import BadPath, normalize, tenant_root
from services.gateway.servers.selection import BadSelection, Selection, check_layout, select


@dataclass(frozen=True, slots=True)
class Plan:
    server: Server
    workflow: Workflow
    targets: list[str]
    output_root: str
    selection: Selection


def visible_task(server: Server, principal: Principal) -> str | None:
    """The running task's id for those who may see that task (its tenant's admins and its
    owner); that the server is busy, everyone may know."""
    if server.current_task_tenant != principal.tenant_id:
        return None
    if principal.owner_filter not in (None, server.current_task_user):
        return None
    return server.current_task_id


def unavailability(server: Server, principal: Principal) -> tuple[str, str] | None:
    """(code, message) when the server cannot take a batch now."""
    if not server.enabled:
        return "SERVER_DISABLED", f"server {server.name} is disabled"
    if server.status != ServerStatus.ONLINE:
        return "SERVER_UNAVAILABLE", f"server {server.name} is {server.status}: {server.problem}"
    if server.current_task_id is not None:
        holder = visible_task(server, principal)
        return "SERVER_BUSY", (f"server {server.name} is busy with task {holder}" if holder
                               else f"server {server.name} is busy with another task")
    return None


def _known_workflow(name: str, everyone: list[Server]) -> None:
    known = set(BUILT_IN).union(*(s.workflows for s in everyone))
    if name not in known:
        raise ApiError(404, "WORKFLOW_NOT_FOUND", f"workflow {name} does not exist",
                       [{"field": "workflow_name", "message": f"known: {sorted(known)}"}])


def _offered_workflow(server: Server, name: str) -> Workflow:
    offered = server.workflows
    if name not in offered:
        raise ApiError(400, "WORKFLOW_NOT_SUPPORTED",
                       f"server {server.name} does not run workflow {name}",
                       [{"field": "workflow_name",
                         "message": f"{server.name} runs {sorted(offered) or 'nothing yet'}"}])
    return offered[name]


def _paths(body: BatchRequest) -> tuple[list[str], str]:
    try:
        targets = list(dict.fromkeys(normalize(folder) for folder in body.target_folders))
    except BadPath as exc:
        raise validation_error("target_folders", str(exc)) from None
    try:
        output_root = normalize(body.output_root)
    except BadPath as exc:
        raise validation_error("output_root", str(exc)) from None
    return targets, output_root


async def _selection(storage: Storage, principal: Principal, body: BatchRequest,
                     workflow: Workflow, targets: list[str], output_root: str) -> Selection:
    root = tenant_root(principal.tenant_id)
    limit = SERVER_BATCH.max_items * 2  # room for files the workflow skips
    listing: dict[str, list[str]] = {}
    for target in targets:
        found = await storage.list_objects(f"{root}{target}/", limit=limit + 1)
        if len(found) > limit:
            raise validation_error("target_folders", f"/{target} holds more than {limit} files")
        listing[target] = [obj.key[len(root):] for obj in found]
    try:
        check_layout(targets, output_root)
        selection = select(listing, body.folder_keywords, workflow, output_root)
    except BadSelection as exc:
        raise validation_error(exc.field, str(exc)) from None
    if not selection.files:
        raise ApiError(400, "NO_FILES", "no files to process: no "
                       f"{'/'.join(workflow.inputs)} file in a folder matching "
                       f"{body.folder_keywords or 'any name'} under {body.target_folders}",
                       [{"field": "target_folders", "message": "no matching files"}])
    if len(selection.files) > SERVER_BATCH.max_items:
        raise validation_error("target_folders",
                               f"{len(selection.files)} files; at most {SERVER_BATCH.max_items}")
    return selection


async def plan(everyone: list[Server], storage: Storage, principal: Principal,
               body: BatchRequest, *, unavailable_status: int) -> Plan:
    """The plan for `body` among the registered servers `everyone`."""
    server = next((s for s in everyone if s.name == body.selected_server), None)
    if server is None:
        raise server_not_found(body.selected_server)
    _known_workflow(body.workflow_name, everyone)
    problem = unavailability(server, principal)
    if problem is not None:
        code, message = problem
        raise ApiError(unavailable_status, code, message,
                       {"available": False, "server_name": server.name,
                        "status": server.status.value, "enabled": server.enabled,
                        "current_task_id": visible_task(server, principal)})
    workflow = _offered_workflow(server, body.workflow_name)
    limit = server.capabilities.get("max_batch_size")  # a remote's /health (an int)
    if server.type == ServerType.REMOTE and isinstance(limit, int) and 0 < limit < \
            server.batch_size:
        raise ApiError(400, "BATCH_SIZE_TOO_LARGE",
                       f"server {server.name} takes at most {limit} files per batch; "
                       f"its batch_size is {server.batch_size} (PATCH /servers/{server.name})")
    targets, output_root = _paths(body)
    selection = await _selection(storage, principal, body, workflow, targets, output_root)
    return Plan(server, workflow, targets, output_root, selection)
