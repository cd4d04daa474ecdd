"""Servers, their status and what they run."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from libs.workflows import Workflow, declared


class ServerType(StrEnum):
    LOCAL = "local"  # one of Conveyor's own worker instances, reached through its own queue
    REMOTE = "remote"  # an HTTP server speaking docs/remote-protocol.md, reached by the registry


class ServerStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


class Server(msgspec.Struct, kw_only=True):
    name: str
    type: ServerType
    url: str
    enabled: bool
    batch_size: int
    auto: bool
    status: ServerStatus
    capabilities: dict[str, Any]
    last_error: str | None
    checked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    owner_tenant_id: str | None = None  # None: the operator's (self-registered local servers)
    shared: bool = False  # an operator's remote server that runs every tenant's batches
    current_task_id: str | None = None
    current_task_tenant: str | None = None
    current_task_user: str | None = None

    @property
    def workflows(self) -> dict[str, Workflow]:
        return declared(self.capabilities)

    @property
    def problem(self) -> str | None:
        """Why it is not online, in words."""
        if self.status == ServerStatus.ONLINE:
            return None
        if self.type == ServerType.LOCAL:
            if self.status == ServerStatus.ERROR:
                return (f"instance {self.name} is online but runs no workflows "
                        "(not a batch server)")
            return f"no instance named {self.name} is heartbeating"
        return self.last_error or "not checked yet"


class NewServer(msgspec.Struct, kw_only=True):
    name: str
    type: ServerType
    url: str
    enabled: bool
    batch_size: int
    owner_tenant_id: str | None  # None: registered by the operator
    shared: bool = False


class Viewer(msgspec.Struct, frozen=True, kw_only=True):
    """Whose batches are asked about: a tenant, by id; `operator_tenant` names the tenant
    whose admins are the operator (the owner of servers with no owner tenant)."""

    tenant_id: str
    operator_tenant: str


def exclusivity_key(name: str) -> str:
    """Held by a server's unfinished task: one task per server at a time."""
    return f"server:{name}"
