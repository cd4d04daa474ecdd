"""Dependencies handlers declare by name; built once in the app's lifespan (no globals)."""

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from services.gateway.auth.repository import Principal


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)  # the auth middleware guarantees it
    return principal


def _from_state(name: str) -> Callable[[State], Any]:
    """What the lifespan put in the app state under `name` (db, storage, commands, ...)."""

    def provide(state: State) -> Any:
        return state[name]

    return provide


DEPENDENCIES = {
    "principal": Provide(_principal, sync_to_thread=False),
    **{name: Provide(_from_state(name), sync_to_thread=False)
       for name in ("commands", "db", "storage", "rpc", "settings", "sandbox")},
}
