"""The code-generation kind's contracts (seed 002): the task's options (`CodegenParams`), the four
agents that are its stages, the plan the first agent makes (`Plan`), the versioned application
specification the second writes (`AppSpec`, stored and readable by id), the quality report of
the third, and what the task leaves behind (`CodegenResult`).

Everything in a Plan or an AppSpec may come from a language model's answer, so every name is
bounded and checked by pattern here, before any of it names a file, a class or a table."""

import re
from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

APP_SPEC_VERSION = "1.0"
MAX_REQUIREMENT_CHARS = 5000
DEFAULT_QUALITY_THRESHOLD = 70
MAX_ENTITIES = 30
MAX_FIELDS = 30
MAX_RELATIONS = 10
MAX_ENDPOINTS = 300
MAX_LABEL_CHARS = 100

# A Kotlin package: dot-separated lower-case identifiers, none of them a Kotlin hard keyword.
PACKAGE_PATTERN = r"^[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30}){1,7}$"
KOTLIN_KEYWORDS = frozenset({
    "as", "break", "class", "continue", "do", "else", "false", "for", "fun", "if", "in",
    "interface", "is", "null", "object", "package", "return", "super", "this", "throw", "true",
    "try", "typealias", "typeof", "val", "var", "when", "while",
})


def valid_package(name: str) -> bool:
    return (re.fullmatch(PACKAGE_PATTERN, name) is not None
            and not KOTLIN_KEYWORDS.intersection(name.split(".")))


class Agent(StrEnum):
    PLAN = "plan"
    EXECUTE = "execute"
    VALIDATE = "validate"
    GENERATE = "generate"


# The stages of a codegen task, in order, with the names seed 002 shows for them.
AGENTS: tuple[tuple[str, str], ...] = (
    (Agent.PLAN.value, "规划Agent"),
    (Agent.EXECUTE.value, "执行Agent"),
    (Agent.VALIDATE.value, "验证Agent"),
    (Agent.GENERATE.value, "生成Agent"),
)

# Seed 002's task statuses: the engine's `running` is named after the agent at work.
RUNNING_STATUS: dict[str, str] = {
    Agent.PLAN.value: "planning",
    Agent.EXECUTE.value: "executing",
    Agent.VALIDATE.value: "validating",
    Agent.GENERATE.value: "generating",
}
STATUS_DESCRIPTIONS: dict[str, str] = {
    "pending": "等待执行",
    "planning": "需求规划中",
    "executing": "AppSpec生成中",
    "validating": "质量验证中",
    "generating": "代码生成中",
    "completed": "任务完成",
    "failed": "任务失败",
    "cancelled": "任务取消",
}
CANCELLABLE = frozenset({"pending", "planning", "executing", "validating", "generating"})


class ProviderName(StrEnum):
    OFFLINE = "offline"  # rule based, deterministic, no model
    CHAT = "chat"  # an OpenAI-compatible chat-completions API


class CodegenParams(msgspec.Struct, frozen=True, kw_only=True):
    user_requirement: str
    package_name: str = ""  # empty: derived from the plan's application name
    skip_validation: bool = False
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD
    generate_preview: bool = False


class CodegenPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The task's one item: whose generation it is (the hourly AI-call limit is per user)."""

    user_id: str


# An entity or field name as the generated code spells it (PascalCase / camelCase); anything
# else (paths, dots, spaces) is refused before it reaches a template.
EntityName = Annotated[str, Meta(pattern=r"^[A-Z][A-Za-z0-9]{0,39}$")]
FieldName = Annotated[str, Meta(pattern=r"^[a-z][A-Za-z0-9]{0,39}$")]
Label = Annotated[str, Meta(max_length=MAX_LABEL_CHARS)]


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INT = "int"
    LONG = "long"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: FieldName
    type: FieldType = FieldType.STRING
    label: Label = ""
    required: bool = True
    max_length: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    unique: bool = False


class RelationSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Many of this entity belong to one `target` (a foreign key named `<name>Id`)."""

    name: FieldName
    target: EntityName
    required: bool = True


class EntitySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: EntityName
    label: Label = ""
    fields: Annotated[list[FieldSpec], Meta(max_length=MAX_FIELDS)] = []
    relations: Annotated[list[RelationSpec], Meta(max_length=MAX_RELATIONS)] = []


class Plan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the plan agent found in the requirement."""

    app_name: Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9]{0,39}$")]
    summary: Annotated[str, Meta(max_length=500)] = ""
    entities: Annotated[list[EntitySpec], Meta(min_length=1, max_length=MAX_ENTITIES)]
    roles: Annotated[list[Label], Meta(max_length=20)] = []
    features: Annotated[list[Label], Meta(max_length=50)] = []


class Operation(StrEnum):
    LIST = "list"
    GET = "get"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SEARCH = "search"


class EndpointSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: Annotated[str, Meta(pattern=r"^/api(/[a-z0-9\-]{1,40}|/\{id\}){1,6}$")]
    entity: EntityName
    operation: Operation
    summary: Label = ""


class AppSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The application to generate, versioned: a stored spec stays readable as it was written."""

    version: Literal["1.0"] = "1.0"  # APP_SPEC_VERSION
    app_name: Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9]{0,39}$")]
    package_name: Annotated[str, Meta(pattern=PACKAGE_PATTERN)]
    description: Annotated[str, Meta(max_length=1000)] = ""
    entities: Annotated[list[EntitySpec], Meta(min_length=1, max_length=MAX_ENTITIES)]
    endpoints: Annotated[list[EndpointSpec], Meta(max_length=MAX_ENDPOINTS)] = []
    roles: Annotated[list[Label], Meta(max_length=20)] = []
    features: Annotated[list[Label], Meta(max_length=50)] = []


class Check(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    passed: bool
    weight: int  # points of the 100 this check is worth
    score: int  # points earned
    detail: str = ""


class QualityReport(msgspec.Struct, frozen=True, kw_only=True):
    score: int  # 0-100
    checks: list[Check]
    files_checked: int
    reviewer_notes: list[str] = []  # what the provider's review said (nothing offline)


class TokenUsage(msgspec.Struct, kw_only=True):
    plan_tokens: int = 0
    execute_tokens: int = 0
    validate_tokens: int = 0
    generate_tokens: int = 0
    estimated_cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.plan_tokens + self.execute_tokens + self.validate_tokens + self.generate_tokens


class CodegenResult(msgspec.Struct, frozen=True, kw_only=True):
    app_spec_id: str
    quality_score: int | None  # None: validation skipped
    archive_key: str
    archive_bytes: int
    preview_key: str | None
    files: list[str]
    provider: ProviderName
