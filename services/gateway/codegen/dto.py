"""The create request of seed 002, in its camelCase; the requirement and the package are checked
by the service, which answers in the seed's words (`用户需求不能为空`)."""

from typing import Annotated

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

from proto.codegen import DEFAULT_QUALITY_THRESHOLD


class GenerateAsyncRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    # Optional here so that a missing one gets the seed's message, not a schema error.
    user_requirement: Annotated[str, Meta(max_length=100_000)] | None = None
    skip_validation: bool = False
    quality_threshold: Annotated[int, Meta(ge=0, le=100)] = DEFAULT_QUALITY_THRESHOLD
    generate_preview: bool = False
    package_name: Annotated[str, Meta(max_length=300)] | None = None


EXAMPLE_REQUIREMENT = "创建一个校园二手交易平台，支持商品发布、搜索、聊天和交易评价"

GenerateAsyncBody = Annotated[GenerateAsyncRequest, Body(examples=[
    Example(summary="Seed 002's own example",
            value={"userRequirement": EXAMPLE_REQUIREMENT,
                   "skipValidation": False, "qualityThreshold": 70, "generatePreview": True,
                   "packageName": "com.example.marketplace"}),
])]
