"""Request bodies of seed 004 (snake_case as documented)."""

from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

from libs.tasks.kinds import SERVER_BATCH

# A server's name is part of its queue's name and its exclusivity key.
ServerName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$",
                                 description="letters, digits, '_', '.', '-'; 1-63")]
BatchSize = Annotated[int, Meta(ge=1, le=SERVER_BATCH.max_concurrency,
                                description="files processed at a time (> 0)")]
FolderPath = Annotated[str, Meta(min_length=1, max_length=1024)]
Keyword = Annotated[str, Meta(min_length=1, max_length=100)]


class RegisterServerRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: ServerName
    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    type: Literal["local", "remote"] = "remote"
    enabled: bool = True
    batch_size: BatchSize = SERVER_BATCH.concurrency
    # The operator's only: the server then runs (and sees the files of) every tenant's batches.
    shared: bool = False


class UpdateServerRequest(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None = None
    batch_size: BatchSize | None = None
    shared: bool | None = None  # the operator's only


class WorkflowOptions(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True,
                      frozen=True):
    max_size: Annotated[int, Meta(ge=16, le=4096)] | None = None  # image-thumbnail


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /batch/check-server` and `POST /batch/process`."""

    workflow_name: Annotated[str, Meta(min_length=1, max_length=64)]
    target_folders: Annotated[list[FolderPath], Meta(min_length=1, max_length=50)]
    selected_server: Annotated[str, Meta(min_length=1, max_length=63)]
    output_root: FolderPath
    folder_keywords: Annotated[list[Keyword], Meta(max_length=50)] = []
    options: WorkflowOptions = WorkflowOptions()


class UploadUrlRequest(msgspec.Struct, forbid_unknown_fields=True):
    path: FolderPath


RegisterServerBody = Annotated[RegisterServerRequest, Body(examples=[
    Example(summary="A remote server speaking the remote protocol",
            value={"name": "gpu-01", "url": "https://gpu-01.example.com", "type": "remote",
                   "batch_size": 4}),
])]
BatchBody = Annotated[BatchRequest, Body(examples=[
    Example(summary="Seed 004: DOCX to PDF over the 合同 folders",
            value={"workflow_name": "docx-to-pdf", "target_folders": ["/inbox/2026"],
                   "folder_keywords": ["合同"], "selected_server": "docrender-1",
                   "output_root": "/out/pdf"}),
])]
