"""The key of the request being handled, for the creation point (TaskService) to record what
it created under it. Set by the middleware around the handler; None without a key."""

from contextvars import ContextVar

from services.gateway.idempotency.repository import Claim

current_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)

# Marks a route as a create route: `@post(..., opt=IDEMPOTENT_CREATE)`.
IDEMPOTENT_CREATE = {"idempotent_create": True}
