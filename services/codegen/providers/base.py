"""What every provider implements: the model-shaped half of each agent. The engine half (storing
the spec, rendering and checking the project, packaging it) is the same whatever the provider."""

from typing import Protocol

import msgspec

from proto.codegen import AppSpec, Plan, ProviderName, QualityReport


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens,
                     cost=self.cost + other.cost)


NO_USAGE = Usage()


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Whom a call is for: the hourly AI-call limit is per user."""

    tenant_id: str
    user_id: str
    task_id: str


class Provider(Protocol):
    name: ProviderName

    async def plan(self, requirement: str, caller: Caller) -> tuple[Plan, Usage]:
        """Entities, fields, relations, roles and features found in the requirement."""
        ...

    async def execute(self, requirement: str, plan: Plan, package_name: str,
                      caller: Caller) -> tuple[AppSpec, Usage]:
        """The application spec (endpoints included) for the plan, in `package_name`."""
        ...

    async def review(self, spec: AppSpec, report: QualityReport,
                     caller: Caller) -> tuple[list[str], Usage]:
        """Remarks on the spec and its check results (they are reported, never scored)."""
        ...

    async def describe(self, spec: AppSpec, caller: Caller) -> tuple[str, Usage]:
        """The README's overview of the generated application."""
        ...
