"""Response bodies of seed 004's routes (plain JSON, snake_case): servers, workflow batches
on them and the tenant's files."""

from typing import Literal

import msgspec

from libs.servers.model import ServerStatus
from libs.tasks.model import TaskStatus
from services.gateway.tasks.schemas import QueueViewSnake


class ServerView(msgspec.Struct):
    name: str
    url: str
    type: Literal["local", "remote"]
    enabled: bool
    batch_size: int
    status: ServerStatus
    current_task_id: str | None  # only when the task is the caller's to see
    busy: bool
    workflows: list[str]
    error: str | None  # why it is not online
    checked_at: str | None
    self_registered: bool  # a local docrender instance that registered itself
    shared: bool  # an operator's server that runs every tenant's batches


class ServerDeleted(msgspec.Struct):
    name: str
    deleted: bool


class ServerCheck(msgspec.Struct):
    available: bool
    server_name: str
    batch_size: int
    message: str
    workflow_name: str
    total_files: int
    skipped_files: int  # in the folders, but not a type the workflow takes


class ServerBatchStarted(msgspec.Struct):
    task_id: str
    status: TaskStatus
    message: str
    created_at: str
    server_name: str
    workflow_name: str
    total_files: int
    batch_size: int


class BatchTaskView(msgspec.Struct):
    task_id: str
    status: Literal["pending", "running", "completed", "failed"]  # the seed's four
    message: str
    created_at: str
    updated_at: str
    progress: float  # 0.0-1.0
    server_name: str | None
    engine_status: TaskStatus  # the exact status
    workflow_name: str | None
    total_files: int
    processed_files: int
    failed_files: int
    current_step: str | None
    output_root: str | None
    batch_size: int
    # While the batch waits for workers (its status stays running): docs/api/task-api.md.
    queue: QueueViewSnake | None = None


class StoredFile(msgspec.Struct):
    path: str
    size: int
    content_type: str


class UploadUrl(msgspec.Struct):
    path: str
    method: Literal["PUT"]
    expires_in: int  # seconds
    url: str


class FileEntry(msgspec.Struct):
    path: str
    size: int
    modified_at: str | None


class FileList(msgspec.Struct):
    prefix: str
    truncated: bool  # more files than one answer lists
    files: list[FileEntry]


class FileDeleted(msgspec.Struct):
    path: str
    deleted: bool
