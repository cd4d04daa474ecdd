"""Request bodies of the knowledge-base API (snake_case, as seed 003 writes its fields)."""

from typing import Annotated, Literal

import msgspec
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
