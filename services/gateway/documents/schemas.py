"""Response bodies of seed 000's document routes: `{success, data, meta}`, camelCase."""

from typing import Literal

import msgspec

from libs.tasks.model import TaskStatus
from services.gateway.tasks.schemas import QueueView


class ResponseMeta(msgspec.Struct, rename="camel"):
    request_id: str | None
    timestamp: str
    version: str
    execution_time: int  # ms


class Seed000Envelope(msgspec.Struct):
    success: Literal[True]
    meta: ResponseMeta


class TemplateView(msgspec.Struct, rename="camel"):
    template_id: str
    template_name: str
    filename: str
    size: int
    fields: list[str]  # the row fields the template uses, read from it at upload
    created_at: str


class DataSourceView(msgspec.Struct, rename="camel"):
    data_source_id: str
    name: str
    format: Literal["csv", "xlsx", "json"]
    row_count: int
    columns: list[str]
    created_at: str


class TemplateDeleted(msgspec.Struct, rename="camel"):
    template_id: str
    deleted: bool


class DataSourceDeleted(msgspec.Struct, rename="camel"):
    data_source_id: str
    deleted: bool


class PlannedTemplate(msgspec.Struct, rename="camel"):
    template_id: str
    template_name: str
    estimated_count: int


class BatchCreated(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    estimated_time: int  # seconds, a rough estimate
    estimated_document_count: int
    items: list[PlannedTemplate]
    websocket_url: str


class BatchStarted(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    started_at: str | None


class BatchPaused(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    paused_at: str | None


class BatchResumed(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    resumed_at: str | None


class BatchCancelled(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    cancelled_at: str | None
    completed_documents: int
    message: str


class TemplateProgress(msgspec.Struct, rename="camel"):
    template_id: str
    template_name: str
    status: Literal["pending", "processing", "paused", "completed", "failed", "cancelled"]
    progress: int
    completed_count: int
    total_count: int
    failed_count: int


class CurrentItem(msgspec.Struct, rename="camel"):
    template_name: str
    document_index: int
    total_documents: int


class BatchProgress(msgspec.Struct, rename="camel"):
    task_id: str
    status: TaskStatus
    progress: int
    current_step: str
    completed_steps: int
    total_steps: int
    estimated_time_remaining: int | None
    current_item: CurrentItem | None
    items: list[TemplateProgress]
    # While the batch waits for workers (its status stays running): docs/api/task-api.md.
    queue: QueueView | None
    completed_documents: int
    failed_documents: int
    zip_ready: bool
    error_message: str | None
    created_at: str
    started_at: str | None
    completed_at: str | None


class TemplateResponse(Seed000Envelope):
    data: TemplateView


class TemplateListResponse(Seed000Envelope):
    data: list[TemplateView]


class TemplateDeletedResponse(Seed000Envelope):
    data: TemplateDeleted


class DataSourceResponse(Seed000Envelope):
    data: DataSourceView


class DataSourceListResponse(Seed000Envelope):
    data: list[DataSourceView]


class DataSourceDeletedResponse(Seed000Envelope):
    data: DataSourceDeleted


class BatchCreatedResponse(Seed000Envelope):
    data: BatchCreated


class BatchStartedResponse(Seed000Envelope):
    data: BatchStarted


class BatchPausedResponse(Seed000Envelope):
    data: BatchPaused


class BatchResumedResponse(Seed000Envelope):
    data: BatchResumed


class BatchCancelledResponse(Seed000Envelope):
    data: BatchCancelled


class BatchProgressResponse(Seed000Envelope):
    data: BatchProgress
