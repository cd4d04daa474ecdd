"""Dependencies handlers declare by name, the one way a handler reaches settings, clients and
services: each is built once by the app's composition root (`app.build`) and kept in the app
state (no globals, no `request.app.state` in handlers)."""

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
    """What the composition root put in the app state under `name`."""

    def provide(state: State) -> Any:
        return state[name]

    return provide


def _after_principal(name: str) -> Callable[[State, Principal], Any]:
    """The same, resolved after the caller's principal. Litestar resolves a handler's
    independent dependencies concurrently, in a task group (two asyncio tasks per request:
    ~10% of a status poll's CPU); these are dictionary lookups, so the services every
    authenticated HTTP handler takes with `principal` come after it, inline."""

    def provide(state: State, principal: Principal) -> Any:
        return state[name]

    return provide


DEPENDENCIES = {
    "principal": Provide(_principal, sync_to_thread=False),
    **{name: Provide(_from_state(name), sync_to_thread=False)
       for name in ("settings", "storage", "stream_service", "health_service")},
    **{name: Provide(_after_principal(name), sync_to_thread=False)
       for name in ("task_service", "document_service", "kb_service", "server_service",
                    "slide_service", "codegen_service")},
}
