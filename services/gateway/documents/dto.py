"""Request bodies of seed 000 (camelCase as documented)."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
MAX_INLINE_ROWS = 10_000


class BatchOptions(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    batch_size: Annotated[int, Meta(ge=1, le=100)] = 10
    parallel_processing: bool = False
    create_zip: bool = True
    concurrency: Annotated[int, Meta(ge=1, le=64)] = 3
    continue_on_error: bool = False


class RowRange(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Rows `first` to `last` of the source (1-based, inclusive; no `last`: to the end)."""

    first: Annotated[int, Meta(ge=1)] = 1
    last: Annotated[int, Meta(ge=1)] | None = None


class CreateBatchTaskRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    template_ids: Annotated[list[Id], Meta(min_length=1, max_length=20)]
    output_format: Literal["docx", "pdf"]
    data_source_id: Id | None = None
    mode: Literal["sequential", "parallel"] = "sequential"
    data: Annotated[list[dict[str, Any]], Meta(max_length=MAX_INLINE_ROWS)] = []
    options: BatchOptions = BatchOptions()
    name: Annotated[str, Meta(max_length=255)] | None = None
    row_range: RowRange | None = None  # an addition to seed 000: a part of the rows


CreateBatchTaskBody = Annotated[CreateBatchTaskRequest, Body(examples=[
    Example(summary="Seed 000's quick start: two templates x inline rows, one ZIP",
            value={"templateIds": ["template-001", "template-002"], "outputFormat": "docx",
                   "mode": "sequential",
                   "data": [{"name": "张三", "age": 30, "email": "zhangsan@example.com"},
                            {"name": "李四", "age": 25, "email": "lisi@example.com"}],
                   "options": {"batchSize": 10, "createZip": True}}),
    Example(summary="PDF from an uploaded data source, in parallel",
            value={"templateIds": ["template-001"], "outputFormat": "pdf",
                   "dataSourceId": "ds-001", "mode": "parallel",
                   "options": {"concurrency": 4, "continueOnError": True}}),
])]


@dataclass
class UploadForm:
    """A template or data-source upload: multipart `file`, optional `name` and `id`."""

    file: UploadFile
    name: str | None = None
    id: str | None = None


Multipart = Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]
