"""Request bodies of the knowledge-base API (snake_case, as seed 003 writes its fields)."""

from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

from proto.kb import SearchMode

MAX_DOCUMENT_IDS = 10_000


class CreateKnowledgeBase(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=2000)] = ""


class CreateSync(msgspec.Struct, forbid_unknown_fields=True):
    task_type: Literal["full_sync", "incremental"]
    document_ids: Annotated[list[Annotated[str, Meta(max_length=64)]],
                            Meta(max_length=MAX_DOCUMENT_IDS)] = []


class Search(msgspec.Struct, forbid_unknown_fields=True):
    query: Annotated[str, Meta(min_length=1, max_length=2000)]
    top_k: Annotated[int, Meta(ge=1, le=50)] = 5
    # hybrid: keyword and vector rankings fused (the default); vector or keyword: one alone.
    mode: SearchMode = "hybrid"


CreateKnowledgeBaseBody = Annotated[CreateKnowledgeBase, Body(examples=[
    Example(summary="A knowledge base", value={"name": "产品手册", "description": "v2 docs"}),
])]
CreateSyncBody = Annotated[CreateSync, Body(examples=[
    Example(summary="Index every uploaded document", value={"task_type": "full_sync"}),
    Example(summary="Re-index two documents",
            value={"task_type": "incremental",
                   "document_ids": ["doc-0b7c7d5e-8f0a-4d7e-9a51-2f4b1c9e3a10"]}),
])]
SearchBody = Annotated[Search, Body(examples=[
    Example(summary="Top five chunks for a question",
            value={"query": "如何重试失败的文档？", "top_k": 5}),
])]
