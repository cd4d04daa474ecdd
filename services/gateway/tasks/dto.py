"""Request bodies of the generic task API."""

from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta


class CreateTaskRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    kind: Annotated[str, Meta(min_length=1, max_length=64)]
    items: Annotated[list[dict[str, Any]], Meta(min_length=1)]
    name: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    concurrency: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    max_attempts: Annotated[int, Meta(ge=1, le=20)] | None = None
    continue_on_error: bool = True
    auto_start: bool = True
    item_timeout_seconds: Annotated[int, Meta(ge=1, le=3600)] | None = None
    timeout_seconds: Annotated[int, Meta(ge=1, le=7 * 24 * 3600)] | None = None
    finalize: bool = False  # echo: run the kind's finalize step once items settle
    params: Annotated[dict[str, Any], Meta(max_length=32)] = {}
    # Orders the tenant's own tasks when its share of the kind's workers is less than they
    # want; never ahead of another tenant's share.
    priority: Literal["high", "normal", "low"] = "normal"


CreateTaskBody = Annotated[CreateTaskRequest, Body(
    title="A task of a generic kind",
    examples=[
        Example(summary="Three echo items, one of them slow",
                value={"kind": "echo", "items": [{"value": 1}, {"value": 2},
                                                 {"value": 3, "sleep_ms": 500}],
                       "concurrency": 2}),
        Example(summary="Created paused (start it later), one item fails",
                value={"kind": "echo", "name": "drill", "autoStart": False,
                       "items": [{"value": 1}, {"value": 2, "fail": "permanent"}]}),
    ])]
