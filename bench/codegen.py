"""Code generation (issue 23): 10 requirements of 3-15 entities through the whole system
(gateway -> scheduler -> codegen service -> PostgreSQL, S3) with the offline provider, against
the same generations done directly in one process (the provider, rendering, checks, README,
ZIP and preview: everything but the services), measured in the same run.

- throughput: the 10 submitted at once, generations per second until the last completes;
- latency: each alone, createdAt -> completedAt (the server's clocks); the engine's overhead
  is that minus the direct time of the same generation (the target: under 50 ms);
- the provider's own time (its four calls) per generation, for scale."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime
from typing import Any

import httpx
import msgspec
import uvloop

from bench.stack import isolated_stack
from proto.codegen import AppSpec
from services.codegen.project.checks import quality_report
from services.codegen.project.package import package
from services.codegen.project.render import render_project
from services.codegen.providers.base import Caller
from services.codegen.providers.offline import OfflineProvider, warm_up

REQUIREMENTS = [
    "做一个图书、借阅和用户的系统",  # 3
    "校园二手交易平台，支持商品发布、搜索、聊天和交易评价",  # 6
    "博客社区：文章、评论、标签、通知和收藏",
    "医院挂号：患者、医生、预约、科室和通知",
    "A shop with products, categories, orders, payments, reviews and a cart",
    "选课系统：学生、教师、课程、选课、考勤、通知和活动",
    "仓库管理：仓库、商品、出入库、供应商、订单、支付和地址",
    "项目管理：项目、任务、员工、部门、考勤、通知、活动和标签",
    "二手商城：商品、分类、订单、支付、购物车、收藏、地址、评价、聊天、搜索和通知",
    "综合平台：商品、分类、订单、支付、购物车、收藏、地址、评价、聊天、搜索、通知、图书、借阅、"
    "文章和活动",  # 15+ entities
]
CAPS = (256 * 1024, 16 * 2**20)
CALLER = Caller(tenant_id="bench", user_id="bench", task_id="bench")


async def direct(requirement: str, provider: OfflineProvider) -> tuple[float, float, int]:
    """The generation in one process: (seconds, of which the provider's, entities)."""
    started = time.perf_counter()
    plan, _ = await provider.plan(requirement, CALLER)
    spec, _ = await provider.execute(requirement, plan, "com.example.bench", CALLER)
    provider_s = time.perf_counter() - started
    spec = msgspec.json.decode(msgspec.json.encode(spec), type=AppSpec)
    files = render_project(spec, max_file_bytes=CAPS[0], max_total_bytes=CAPS[1])
    report = quality_report(spec, files)
    mark = time.perf_counter()
    await provider.review(spec, report, CALLER)
    overview, _ = await provider.describe(spec, CALLER)
    provider_s += time.perf_counter() - mark
    package(msgspec.json.encode(spec), files, overview, "offline", "id", report.score, True,
            *CAPS)
    return time.perf_counter() - started, provider_s, len(spec.entities)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _create(client: httpx.AsyncClient, requirement: str) -> str:
    response = await client.post("/api/v1/generate/async", json={
        "userRequirement": requirement, "generatePreview": True,
        "packageName": "com.example.bench"})
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]
    return task_id


async def _finished(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    while True:
        data: dict[str, Any] = (await client.get(f"/api/v1/generate/status/{task_id}")
                                ).json()["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            assert data["status"] == "completed", data
            return data
        await asyncio.sleep(0.02)


async def run() -> dict[str, float]:
    provider = OfflineProvider()
    warm_up()
    for requirement in REQUIREMENTS:  # templates, parser, caches
        await direct(requirement, provider)
    baseline = [await direct(r, provider) for r in REQUIREMENTS]
    entities = [count for _, _, count in baseline]
    async with isolated_stack(["registry", "scheduler", "codegen", "gateway"]) as (_, url, token):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            for requirement in REQUIREMENTS[:3]:  # render process, connections
                await _finished(client, await _create(client, requirement))
            started = time.perf_counter()
            ids = [await _create(client, r) for r in REQUIREMENTS]
            await asyncio.gather(*(_finished(client, task_id) for task_id in ids))
            rate = len(ids) / (time.perf_counter() - started)
            latencies, parts = [], []
            for requirement in REQUIREMENTS:
                data = await _finished(client, await _create(client, requirement))
                latencies.append((_at(data["completedAt"]) - _at(data["createdAt"]))
                                 .total_seconds())
                parts.append(_parts(data))
    direct_s = [seconds for seconds, _, _ in baseline]
    dispatch, worker, settle = (statistics.median(p[i] for p in parts) for i in range(3))
    provider_s = [seconds for _, seconds, _ in baseline]
    overhead_ms = [(system - alone) * 1000 for system, alone in zip(latencies, direct_s,
                                                                     strict=True)]
    figures = {
        "dispatch_ms_median": dispatch, "worker_ms_median": worker, "settle_ms_median": settle,
        "system_generations_per_s": rate, "direct_generations_per_s": len(direct_s) / sum(direct_s),
        "overhead_ms_median": statistics.median(overhead_ms),
        "overhead_ms_max": max(overhead_ms),
        "direct_ms_median": statistics.median(direct_s) * 1000,
        "provider_ms_median": statistics.median(provider_s) * 1000,
    }
    print(f"requirements: {len(REQUIREMENTS)}, entities {min(entities)}-{max(entities)} "
          f"(offline provider)")
    print(f"system: {rate:.2f} generations/s (10 at once); one process directly: "
          f"{figures['direct_generations_per_s']:.2f}/s; ratio "
          f"{rate / figures['direct_generations_per_s']:.2f}")
    for requirement_entities, system, alone, own in zip(entities, latencies, direct_s,
                                                        provider_s, strict=True):
        print(f"  {requirement_entities:2d} entities: system {system * 1000:6.0f} ms, direct "
              f"{alone * 1000:6.1f} ms (provider {own * 1000:5.1f} ms), overhead "
              f"{(system - alone) * 1000:6.0f} ms")
    print(f"engine overhead per generation: median {figures['overhead_ms_median']:.0f} ms, max "
          f"{figures['overhead_ms_max']:.0f} ms (target < 50 ms); direct generation median "
          f"{figures['direct_ms_median']:.1f} ms, of which the provider "
          f"{figures['provider_ms_median']:.1f} ms")
    print(f"where a generation's time goes (medians): created -> first agent {dispatch:.0f} ms "
          f"(engine: dispatch, claim), the four agents {worker:.0f} ms (codegen service: "
          f"provider, timeline, sandbox, S3), last agent -> completed {settle:.0f} ms (engine: "
          f"settlement)")
    return figures


def _parts(data: dict[str, Any]) -> tuple[float, float, float]:
    """(created -> first agent starts, first agent starts -> last agent ends, -> completed) ms."""
    first, last = _at(data["agents"][0]["startedAt"]), _at(data["agents"][-1]["completedAt"])
    return ((first - _at(data["createdAt"])).total_seconds() * 1000,
            (last - first).total_seconds() * 1000,
            (_at(data["completedAt"]) - last).total_seconds() * 1000)


if __name__ == "__main__":
    uvloop.run(run())
