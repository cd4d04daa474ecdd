"""Code generation with the chat provider against a fake OpenAI-compatible server: the four
agents ask for schema-checked JSON, tokens and cost add up from the server's usage and the
price table, a bad answer gets one second chance, an outage is retried then fails clearly, the
hourly AI-call limit holds, a low quality score fails the task with seed 002's message, and a
task can be cancelled in every cancellable status."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.e2e.codegen_support import (
    create,
    fetch,
    poll,
    start_codegen,
    status,
    stop_codegen,
    unparsable_kotlin,
    unzip,
    wait_status,
)
from tests.e2e.conftest import Api, Stack
from tests.e2e.fake_chat_api import USAGE, FakeChat, fake_chat

CALLS_PER_HOUR = 12  # three generations of four calls each
PRICE_PROMPT, PRICE_COMPLETION = 0.01, 0.03


@pytest.fixture(scope="module")
def chat() -> Iterator[tuple[FakeChat, str]]:
    with fake_chat() as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def codegen(stack: Stack, chat: tuple[FakeChat, str]) -> AsyncIterator[FakeChat]:
    fake, base_url = chat
    handle = await start_codegen(
        stack, CONVEYOR_CODEGEN_PROVIDER="chat", CONVEYOR_CODEGEN_CHAT_BASE_URL=base_url,
        CONVEYOR_CODEGEN_CHAT_API_KEY="sk-test", CONVEYOR_CODEGEN_CHAT_MODEL="fake-coder",
        CONVEYOR_CODEGEN_CHAT_PRICE_PROMPT_PER_1K=str(PRICE_PROMPT),
        CONVEYOR_CODEGEN_CHAT_PRICE_COMPLETION_PER_1K=str(PRICE_COMPLETION),
        CONVEYOR_CODEGEN_CHAT_MAX_ATTEMPTS="3", CONVEYOR_CODEGEN_CHAT_BACKOFF_BASE_S="0.05",
        CONVEYOR_CODEGEN_CHAT_TIMEOUT_S="90",
        CONVEYOR_CODEGEN_AI_CALLS_PER_HOUR=str(CALLS_PER_HOUR),
        CONVEYOR_CODEGEN_CONCURRENCY="1", CONVEYOR_CODEGEN_PREFETCH="1")
    yield fake
    for agent in ("plan", "execute", "validate", "generate"):
        fake.release(agent)
    await stop_codegen(stack, handle)


async def _user(stack: Stack) -> Api:
    return await stack.user(f"cgc-{uuid.uuid4().hex[:8]}", "dev")


def _marker(mode: str) -> str:
    return f"MODE:{mode}_{uuid.uuid4().int % 10**9}"


async def test_agents_use_schema_checked_json_and_usage_adds_up(
    codegen: FakeChat, stack: Stack
) -> None:
    api = await _user(stack)
    marker = _marker("ok")
    task_id = (await create(api, f"商店与商品 {marker}", packageName="com.example.shop",
                            generatePreview=True))["data"]
    data, _ = await poll(api, task_id, interval_s=0.2)
    assert data["status"] == "completed", data
    assert codegen.calls(marker) == ["plan", "execute", "validate", "generate"]
    for request in (r for r in codegen.requests if marker in str(r)):
        assert request["model"] == "fake-coder"
        assert request["response_format"] == {"type": "json_object"}
        assert "JSON schema" in request["messages"][0]["content"]
    tokens = {agent: sum(USAGE[agent]) for agent in USAGE}
    prompt = sum(p for p, _ in USAGE.values())
    completion = sum(c for _, c in USAGE.values())
    assert data["tokenUsage"] == {
        "planTokens": tokens["plan"], "executeTokens": tokens["execute"],
        "validateTokens": tokens["validate"], "totalTokens": sum(tokens.values()),
        "estimatedCost": round((prompt * PRICE_PROMPT + completion * PRICE_COMPLETION) / 1000,
                               4)}
    assert data["provider"] == "chat"
    assert data["qualityReport"]["reviewerNotes"] == ["add pagination to lists"]
    files = unzip((await fetch(data["downloadUrl"])).content)
    assert "Shop/src/main/kotlin/com/example/shop/entity/Item.kt" in files
    assert unparsable_kotlin(files) == [] and data["previewUrl"]


async def test_a_bad_answer_gets_one_second_chance(codegen: FakeChat, stack: Stack) -> None:
    api = await _user(stack)
    marker = _marker("badonce")
    data, _ = await poll(api, (await create(api, f"商店 {marker}"))["data"], interval_s=0.2)
    assert data["status"] == "completed", data
    assert codegen.calls(marker)[:2] == ["plan", "plan"]
    assert data["tokenUsage"]["planTokens"] == 2 * sum(USAGE["plan"])

    marker = _marker("badjson")
    data, _ = await poll(api, (await create(api, f"商店 {marker}"))["data"], interval_s=0.2)
    assert data["status"] == "failed" and data["currentAgent"] == "plan"
    assert "plan" in data["errorMessage"] and "Plan" in data["errorMessage"], data
    assert codegen.calls(marker) == ["plan", "plan"]


async def test_path_tricks_in_the_models_answer_fail_the_schema(
    codegen: FakeChat, stack: Stack
) -> None:
    api = await _user(stack)
    marker = _marker("evil")
    data, _ = await poll(api, (await create(api, f"商店 {marker}"))["data"], interval_s=0.2)
    assert data["status"] == "failed" and data["downloadUrl"] is None
    assert "不符合Plan模式" in data["errorMessage"], data
    assert data["agents"][0]["status"] == "failed"


async def test_an_outage_is_retried_then_fails_clearly(codegen: FakeChat, stack: Stack) -> None:
    api = await _user(stack)
    marker = _marker("outage")
    data, _ = await poll(api, (await create(api, f"商店 {marker}"))["data"], interval_s=0.2)
    assert data["status"] == "failed", data
    assert data["errorMessage"] == "AI服务不可用：plan请求3次均失败（HTTP 500）"
    assert codegen.calls(marker) == ["plan"] * 3


async def test_a_low_quality_score_fails_with_the_documents_message(
    codegen: FakeChat, stack: Stack
) -> None:
    api = await _user(stack)
    data, _ = await poll(api, (await create(api, f"商店 {_marker('lowq')}"))["data"],
                         interval_s=0.2)
    assert (data["status"], data["statusDescription"], data["currentAgent"]) == (
        "failed", "任务失败", "validate")
    found = re.fullmatch(r"质量评分\((\d+)\)低于阈值\(70\)，请优化需求后重试", data["errorMessage"])
    assert found, data["errorMessage"]
    assert data["qualityReport"]["score"] == int(found.group(1)) < 70
    failed = {c["name"] for c in data["qualityReport"]["checks"] if not c["passed"]}
    assert {"relations_resolve", "endpoints_map", "names_legal"} <= failed
    assert data["downloadUrl"] is None and data["agents"][3]["status"] == "pending"
    listed = (await api.http.get("/api/v1/generate/tasks",
                                 params={"status": "failed"})).json()["data"]["tasks"]
    assert listed[0]["errorMessage"] == data["errorMessage"]


async def test_the_hourly_ai_call_limit(codegen: FakeChat, stack: Stack) -> None:
    api = await _user(stack)
    for _ in range(CALLS_PER_HOUR // 4):
        data, _ = await poll(api, (await create(api, f"商店 {_marker('ok')}"))["data"],
                             interval_s=0.2)
        assert data["status"] == "completed", data
    data, _ = await poll(api, (await create(api, f"商店 {_marker('ok')}"))["data"],
                         interval_s=0.2)
    assert data["status"] == "failed"
    assert data["errorMessage"] == f"AI调用次数已达每小时上限（{CALLS_PER_HOUR}次），请稍后重试"
    # The limit is the user's: another user of the same deployment is not affected.
    other = await _user(stack)
    data, _ = await poll(other, (await create(other, f"商店 {_marker('ok')}"))["data"],
                         interval_s=0.2)
    assert data["status"] == "completed"


async def _cancel(api: Api, task_id: str, expected_agent_status: dict[str, str]) -> None:
    answer = (await api.http.post(f"/api/v1/generate/cancel/{task_id}")).json()
    assert (answer["code"], answer["data"]) == (200, "任务已取消"), answer
    data = await status(api, task_id)
    assert (data["status"], data["statusDescription"]) == ("cancelled", "任务取消")
    assert data["downloadUrl"] is None
    agents = {a["agentType"]: a["status"] for a in data["agents"]}
    assert {k: agents[k] for k in expected_agent_status} == expected_agent_status
    again = await api.http.post(f"/api/v1/generate/cancel/{task_id}")
    assert again.status_code == 400
    assert again.json()["message"] == "任务无法取消（当前状态：cancelled）"


async def test_cancel_in_every_cancellable_status(codegen: FakeChat, stack: Stack) -> None:
    api = await _user(stack)
    # planning, with a second task queued behind it (the worker runs one at a time): pending.
    planning = (await create(api, f"商店 {_marker('hold-plan')}"))["data"]
    await wait_status(api, planning, "planning")
    queued = (await create(api, f"商店 {_marker('ok')}"))["data"]
    assert (await status(api, queued))["status"] == "pending"
    listed = (await api.http.get("/api/v1/generate/tasks",
                                 params={"status": "planning"})).json()["data"]
    assert [t["taskId"] for t in listed["tasks"]] == [planning]
    await _cancel(api, queued, {"plan": "pending"})
    await _cancel(api, planning, {"plan": "cancelled"})
    codegen.release("plan")
    for agent, wanted in (("execute", "executing"), ("validate", "validating"),
                          ("generate", "generating")):
        task_id = (await create(api, f"商店 {_marker('hold-' + agent)}"))["data"]
        await wait_status(api, task_id, wanted)
        await _cancel(api, task_id, {"plan": "completed", agent: "cancelled"})
        codegen.release(agent)
