"""Dependencies handlers declare by name; built once in the app's lifespan (no globals)."""

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.messaging.rpc import RpcClient
from libs.storage import Storage
from services.gateway.auth.repository import Principal
from services.gateway.settings import GatewaySettings
from services.gateway.tasks.commands import TaskCommands


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)  # the auth middleware guarantees it
    return principal


def _commands(state: State) -> TaskCommands:
    commands: TaskCommands = state.commands
    return commands


def _storage(state: State) -> Storage:
    storage: Storage = state.storage
    return storage


def _db(state: State) -> AsyncEngine:
    db: AsyncEngine = state.db
    return db


def _storage(state: State) -> Storage:
    storage: Storage = state.storage
    return storage


def _rpc(state: State) -> RpcClient:
    rpc: RpcClient = state.rpc
    return rpc


def _settings(state: State) -> GatewaySettings:
    settings: GatewaySettings = state.settings
    return settings


DEPENDENCIES = {
    "principal": Provide(_principal, sync_to_thread=False),
    "commands": Provide(_commands, sync_to_thread=False),
    "db": Provide(_db, sync_to_thread=False),
    "storage": Provide(_storage, sync_to_thread=False),
    "rpc": Provide(_rpc, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}
