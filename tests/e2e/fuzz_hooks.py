"""schemathesis hooks for tests/e2e/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS)."""

from typing import Any

import schemathesis

# These wait for the batch by default (up to 10 minutes, seed 001); the fuzz run asks for the
# immediate 202 instead, so every request answers within its timeout.
_WAITING = {"/api/slide/batch/generate", "/api/slide/batch/retry-failed"}


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    operation = getattr(ctx, "operation", None)
    if getattr(operation, "path", None) in _WAITING and isinstance(body, dict):
        body["wait"] = False
    return body
