"""Response bodies of seed 002's code-generation routes. A codegen task's status is one of the
seed's eight (`planning` ... `generating` name the running agent); other kinds' tasks read
through these paths keep the generic task shape (services/gateway/tasks/schemas.py), so the
status here is a string of either set."""

from typing import Any

import msgspec

from services.gateway.tasks.schemas import Page, Seed002Envelope, StageView


class CodegenTokenUsage(msgspec.Struct, rename="camel"):
    """A codegen task's tokens per agent; other kinds report `totalTokens` alone."""

    total_tokens: int  # the generate agent's tokens included
    plan_tokens: int = 0
    execute_tokens: int = 0
    validate_tokens: int = 0
    estimated_cost: float = 0.0


class CodegenSummary(msgspec.Struct, rename="camel"):
    task_id: str
    task_name: str
    kind: str
    status: str  # pending, planning, executing, validating, generating, completed, failed, ...
    status_description: str
    progress: int
    current_agent: str | None
    error_message: str | None
    created_at: str
    completed_at: str | None
    updated_at: str
    download_url: str | None  # presigned ZIP, once completed
    app_spec_id: str | None = None  # codegen tasks only
    quality_score: int | None = None
    started_at: str | None = None


class QualityCheck(msgspec.Struct):
    name: str
    passed: bool
    weight: int
    score: int
    detail: str


class QualityReportView(msgspec.Struct, rename="camel"):
    score: int | None
    checks: list[QualityCheck]
    reviewer_notes: list[str]


class CodegenStatusView(CodegenSummary):
    agents: list[StageView] = []
    estimated_remaining_seconds: int | None = None
    user_requirement: str | None = None
    package_name: str | None = None
    provider: str | None = None  # offline or chat
    preview_url: str | None = None
    quality_report: QualityReportView | None = None
    files: list[str] = []
    token_usage: CodegenTokenUsage | None = None


class CodegenPage(Page):
    tasks: list[CodegenSummary]


class CreatedResponse(Seed002Envelope):
    data: str  # the task id


class CodegenStatusResponse(Seed002Envelope):
    data: CodegenStatusView


class CodegenPageResponse(Seed002Envelope):
    data: CodegenPage


class AppSpecView(msgspec.Struct, rename="camel"):
    app_spec_id: str
    task_id: str
    version: str
    created_at: str
    spec: dict[str, Any]  # proto/codegen.py AppSpec, in its own snake_case


class AppSpecResponse(Seed002Envelope):
    data: AppSpecView


class FileView(msgspec.Struct):
    path: str
    bytes: int
    content: str


class FileResponse(Seed002Envelope):
    data: FileView
