"""The remote server protocol (docs/remote-protocol.md): HTTP+JSON between Conveyor's registry
and a server registered with `type: remote`. The registry is always the client: it checks
`GET /health`, submits `POST /batches`, polls `GET /batches/{batch_id}` and may
`DELETE /batches/{batch_id}`. Files travel through presigned S3 URLs, never through Conveyor.

Fields are only ever added, with defaults; `protocol` names the version a server speaks."""

from enum import StrEnum
from typing import Annotated, Any

import msgspec
from msgspec import Meta

PROTOCOL = "conveyor-remote/1"

BatchId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-]{1,128}$")]


class Health(msgspec.Struct, kw_only=True):
    """`GET /health`. `workflows` entries have the shape of libs.workflows.Workflow."""

    protocol: str
    status: str = "ok"  # anything else: the server is up but not accepting work
    name: str = ""
    workflows: list[dict[str, Any]] = []
    max_batch_size: int = 0  # 0: no limit
    in_flight: int = 0  # files being processed now
    max_in_flight: int = 0  # the most files it ever processed at once (since it started)


class BatchFile(msgspec.Struct, kw_only=True):
    id: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=255)]  # the input's file name
    input_url: str  # presigned GET
    output_url: str  # presigned PUT: upload the result here, with output_content_type
    output_name: str
    output_content_type: str = "application/octet-stream"


class SubmitBatch(msgspec.Struct, kw_only=True):
    """`POST /batches`: idempotent by `batch_id` (a resubmission answers the batch's state)."""

    batch_id: BatchId
    workflow: str
    files: Annotated[list[BatchFile], Meta(min_length=1, max_length=1000)]
    options: dict[str, Any] = {}


class FileState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # the output was uploaded
    FAILED = "failed"


class BatchState(StrEnum):
    RUNNING = "running"
    DONE = "done"  # every file is done or failed
    CANCELLED = "cancelled"


class FileResult(msgspec.Struct, kw_only=True):
    id: str
    status: FileState
    error: str | None = None
    retryable: bool = False  # a failure that may succeed if tried again
    output_bytes: int | None = None


class BatchStatus(msgspec.Struct, kw_only=True):
    """The answer to `POST /batches` (202) and `GET /batches/{batch_id}` (200)."""

    batch_id: str
    status: BatchState
    files: list[FileResult]
