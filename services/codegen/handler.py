"""One generation: the task's single item runs the four agents in turn, each a stage of the task
with its own progress, summary, tokens and timings.

- plan: the provider reads the requirement (untrusted text) into a Plan;
- execute: the provider writes the AppSpec, stored and readable by id;
- validate: the project is rendered (capped process) and checked; below the threshold the task
  fails with seed 002's message;
- generate: README, ZIP and optional preview, stored under the task's prefix.

Generated code is never run. Effects are idempotent per task (a second attempt overwrites the
same objects and the task's one spec row)."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import Permanent
from libs.storage import Storage, task_prefix
from libs.worker.handler import ItemContext, ItemDone
from proto.codegen import (
    Agent,
    AppSpec,
    CodegenParams,
    CodegenPayload,
    CodegenResult,
    QualityReport,
)
from services.codegen import repository as repo
from services.codegen.project.package import Packaged, package, render_and_check
from services.codegen.project.paths import UnsafePath
from services.codegen.providers.base import Caller, Provider, Usage
from services.codegen.spec import default_package
from services.codegen.stages import AgentTimeline, TaskStopped

T = TypeVar("T")


def archive_key(task_id: str) -> str:
    return f"{task_prefix(task_id)}codegen/project.zip"


def preview_key(task_id: str) -> str:
    return f"{task_prefix(task_id)}codegen/preview.html"


def threshold_message(score: int, threshold: int) -> str:
    return f"质量评分({score})低于阈值({threshold})，请优化需求后重试"


def _usage_meta(usage: Usage, started: float) -> dict[str, Any]:
    return {"tokens": usage.tokens, "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens, "cost": round(usage.cost, 6),
            "engineMs": round((time.perf_counter() - started) * 1000, 1)}


class CodegenHandler:
    def __init__(self, db: AsyncEngine, storage: Storage, provider: Provider, pool: Executor,
                 *, max_file_bytes: int, max_archive_bytes: int) -> None:
        self._db = db
        self._storage = storage
        self._provider = provider
        self._pool = pool
        self._caps = (max_file_bytes, max_archive_bytes)

    async def _sandboxed(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        except UnsafePath as exc:
            raise Permanent(f"生成的项目不安全或过大：{exc}") from exc
        except msgspec.ValidationError as exc:
            raise Permanent(f"AppSpec不符合模式：{exc}") from exc

    async def __call__(self, ctx: ItemContext) -> ItemDone:
        params, payload = ctx.params, ctx.payload  # decoded by the runtime (proto/contracts.py)
        assert isinstance(params, CodegenParams) and isinstance(payload, CodegenPayload)
        caller = Caller(tenant_id=ctx.tenant_id, user_id=payload.user_id, task_id=ctx.task_id)
        timeline = AgentTimeline(self._db, ctx.task_id)
        provider = self._provider.name.value

        async def step(name: Agent, work: Callable[[], Awaitable[T]]) -> T:
            """The agent's work; a failure is recorded on the agent before it propagates."""
            try:
                return await work()
            except (TaskStopped, ValidationBelowThreshold):
                raise
            except Permanent as exc:
                await _fail_quietly(timeline, name, str(exc))
                raise

        started = time.perf_counter()
        await timeline.start(Agent.PLAN)
        plan, plan_usage = await step(
            Agent.PLAN, lambda: self._provider.plan(params.user_requirement, caller))
        await timeline.done(Agent.PLAN, plan.summary or f"识别{len(plan.entities)}个实体", {
            "provider": provider, "entities": [e.name for e in plan.entities],
            "features": plan.features, "roles": plan.roles, **_usage_meta(plan_usage, started)},
            then=Agent.EXECUTE)

        package_name = params.package_name or default_package(plan.app_name)
        started = time.perf_counter()
        spec, execute_usage = await step(Agent.EXECUTE, lambda: self._provider.execute(
            params.user_requirement, plan, package_name, caller))
        spec_id = str(uuid.uuid4())
        await timeline.done(
            Agent.EXECUTE,
            f"AppSpec {spec.version}：{len(spec.entities)}个实体，{len(spec.endpoints)}个API端点",
            {"appSpecId": spec_id, "packageName": spec.package_name,
             **_usage_meta(execute_usage, started)},
            then=Agent.VALIDATE,
            also=lambda conn: repo.save_spec(conn, spec_id=spec_id, task_id=ctx.task_id,
                                             tenant_id=ctx.tenant_id, user_id=caller.user_id,
                                             spec=spec))

        spec_json = msgspec.json.encode(spec)
        started = time.perf_counter()
        files, report = await step(Agent.VALIDATE, lambda: self._sandboxed(
            render_and_check, spec_json, not params.skip_validation, *self._caps))
        score: int | None = None
        if report is None:
            await timeline.skip(Agent.VALIDATE, "已跳过质量验证", then=Agent.GENERATE)
        else:
            score = await step(Agent.VALIDATE, lambda: self._validate(
                timeline, spec, report, params, caller, started))

        started = time.perf_counter()
        packaged, describe_usage = await step(Agent.GENERATE, lambda: self._generate(
            ctx.task_id, spec, spec_json, files, spec_id, score, params, caller))
        result = CodegenResult(
            app_spec_id=spec_id, quality_score=score, archive_key=archive_key(ctx.task_id),
            archive_bytes=len(packaged.archive),
            preview_key=preview_key(ctx.task_id) if packaged.preview is not None else None,
            files=packaged.files, provider=self._provider.name)
        await timeline.done(Agent.GENERATE, f"生成{len(packaged.files)}个文件", {
            "archiveKey": result.archive_key, "archiveBytes": result.archive_bytes,
            "previewKey": result.preview_key, "files": packaged.files,
            **_usage_meta(describe_usage, started)})
        total = plan_usage + execute_usage + describe_usage
        return ItemDone(result=result,
                        usage={"tokens": float(total.tokens), "cost": total.cost})

    async def _generate(self, task_id: str, spec: AppSpec, spec_json: bytes,
                        files: dict[str, str], spec_id: str, score: int | None,
                        params: CodegenParams, caller: Caller) -> tuple[Packaged, Usage]:
        overview, usage = await self._provider.describe(spec, caller)
        packaged: Packaged = await self._sandboxed(
            package, spec_json, files, overview, self._provider.name.value, spec_id, score,
            params.generate_preview, *self._caps)
        puts = [self._storage.put_bytes(archive_key(task_id), packaged.archive,
                                        "application/zip")]
        if packaged.preview is not None:
            puts.append(self._storage.put_bytes(preview_key(task_id), packaged.preview.encode(),
                                                "text/html; charset=utf-8"))
        await asyncio.gather(*puts)
        return packaged, usage

    async def _validate(self, timeline: AgentTimeline, spec: AppSpec, report: QualityReport,
                        params: CodegenParams, caller: Caller, started: float) -> int:
        notes, usage = await self._provider.review(spec, report, caller)
        metadata = {"qualityScore": report.score, "checks": msgspec.to_builtins(report.checks),
                    "reviewerNotes": notes, "filesChecked": report.files_checked,
                    **_usage_meta(usage, started)}
        if report.score < params.quality_threshold:
            message = threshold_message(report.score, params.quality_threshold)
            await timeline.fail(Agent.VALIDATE, message, metadata)
            raise ValidationBelowThreshold(message)
        passed = sum(check.passed for check in report.checks)
        await timeline.done(Agent.VALIDATE, f"质量评分{report.score}，{passed}/"
                            f"{len(report.checks)}项检查通过", metadata, then=Agent.GENERATE)
        return report.score


class ValidationBelowThreshold(Permanent):
    pass


async def _fail_quietly(timeline: AgentTimeline, agent: Agent, error: str) -> None:
    """Mark the agent failed; a task that stopped meanwhile keeps the state it has."""
    try:
        await timeline.fail(agent, error)
    except Permanent:
        pass
