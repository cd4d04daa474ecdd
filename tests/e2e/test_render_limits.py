"""Hostile templates: a CPU bomb (nested loops) and a memory bomb ({{ "x" * 1000000000 }}) fail
their item for good within the render limits, the pool's processes are replaced and back to
their normal size, and another tenant's batch running at the same time completes. The gateway
checks the memory bomb at upload without growing: compiling it (Jinja folds the constant) runs
in the gateway's sandbox, where the fold runs out of memory and is skipped."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.harness import ServiceHandle

CPU_S, WALL_S, MEMORY_MB = 3, 40, 768
NORMAL_RSS_MB = 300
CPU_BOMB = ("{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}"
            "{% endfor %}")
MEMORY_BOMB = '{{ "x" * 1000000000 }}'


def _pool(pid: int) -> list[int]:
    """The render processes of a docrender (its spawned children, not the resource tracker)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return [p for p in found if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf(
        "SC_PAGE_SIZE") / 2**20


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def renderer(stack: Stack) -> Any:
    """The only docrender consuming documents: earlier modules' instances are stopped."""
    for handle in stack.cluster.handles:
        if handle.name == "docrender" and handle.running():
            await stack.cluster.kill(handle, group=True)
    handle = await stack.cluster.start(
        "docrender", CONVEYOR_DOCRENDER_OFFICE_INSTANCES="0",
        CONVEYOR_DOCRENDER_RENDER_CPU_S=str(CPU_S), CONVEYOR_DOCRENDER_RENDER_WALL_S=str(WALL_S),
        CONVEYOR_DOCRENDER_RENDER_MEMORY_MB=str(MEMORY_MB))
    await stack.cluster.wait_for_log(handle, "worker.ready")
    yield handle
    await stack.cluster.kill(handle, group=True)


async def _template(api: Api, text: str) -> str:
    # The first upload may wait for the gateway's sandbox process to finish starting.
    response = await api.http.post("/api/v2/templates", timeout=120,
                                   files={"file": ("t.docx", template(text))})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["templateId"])


async def _batch(api: Api, template_ids: list[str], rows: int) -> str:
    response = await api.http.post("/api/v2/batch/tasks", json={
        "templateIds": template_ids, "data": [{"n": i} for i in range(rows)],
        "outputFormat": "docx", "options": {"createZip": False, "continueOnError": True}})
    assert response.status_code in (200, 201), response.text
    task_id = str(response.json()["data"]["taskId"])
    assert (await api.command(task_id, "start")).status_code == 200
    return task_id


async def test_bombs_fail_within_limits_and_others_complete(
    stack: Stack, alice: Api, mallory: Api, renderer: ServiceHandle
) -> None:
    bombs = [await _template(alice, CPU_BOMB), await _template(alice, MEMORY_BOMB)]
    fine = await _template(mallory, "第 {{ n }} 行")
    started = time.monotonic()
    bombed, other = await asyncio.gather(_batch(alice, bombs, 1), _batch(mallory, [fine], 6))
    finished = await alice.wait_finished(bombed, timeout_s=3 * WALL_S)
    took = time.monotonic() - started
    assert finished["status"] == "failed", finished
    assert took < 2 * WALL_S, f"bombs took {took:.0f}s"
    items = (await alice.http.get(f"/api/v1/tasks/{bombed}/items")).json()["data"]["items"]
    errors = sorted(str(item["error"]) for item in items)
    assert [item["attempt"] for item in items] == [1, 1], "resource limits are not retried"
    assert any("memory limit" in e for e in errors), errors
    assert any("CPU time limit" in e or "time limit" in e for e in errors), errors
    assert (await mallory.wait_finished(other, timeout_s=60))["status"] == "completed"

    pool = _pool(renderer.pid)
    assert len(pool) == 2, pool
    assert all(_rss_mb(pid) < NORMAL_RSS_MB for pid in pool), [_rss_mb(p) for p in pool]
    before = sum(_cpu_s(pid) for pid in pool)
    await asyncio.sleep(1.0)
    assert sum(_cpu_s(pid) for pid in pool) - before < 0.5, "nothing keeps burning CPU"
