"""The CLI as someone runs it day to day: uploads reused by content, batches from uploaded ids
and a row range, short task ids, full ids in narrow terminals, the id on the progress line and
errors in one readable line."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.cli_support import Terminal, cli_env, run
from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template


@pytest.fixture
def shell(tmp_path: Path, stack: Stack, alice: Api) -> dict[str, str]:
    assert alice.token
    return cli_env(tmp_path / "config", CONVEYOR_URL=stack.url, CONVEYOR_TOKEN=alice.token)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docx_renderer(stack: Stack) -> AsyncIterator[None]:
    handle = await stack.cluster.start("docrender", CONVEYOR_DOCRENDER_OFFICE_INSTANCES="0")
    await stack.cluster.wait_for_log(handle, "worker.ready")
    yield
    await stack.cluster.kill(handle)


def _csv(path: Path, count: int, columns: tuple[str, ...] = ("name",)) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows({c: f"{c}{i}" for c in columns} for i in range(count))
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


async def test_the_same_generate_twice_uploads_nothing_the_second_time(
    shell: dict[str, str], tmp_path: Path, alice: Api, docx_renderer: None
) -> None:
    template_path = tmp_path / "合同模板.docx"
    template_path.write_bytes(template("合同：{{ name }}"))
    data_path = _csv(tmp_path / "rows.csv", 3)
    args = ("docs", "generate", "--template", str(template_path), "--data", str(data_path))
    first = await run(shell, *args)
    assert first.code == 0 and "2 file(s) uploaded, 0 reused" in first.stdout, first
    templates = (await alice.http.get("/api/v2/templates")).json()["data"]
    sources = (await alice.http.get("/api/v2/data-sources")).json()["data"]
    second = await run(shell, *args)
    assert second.code == 0 and "0 file(s) uploaded, 2 reused" in second.stdout, second
    assert (await alice.http.get("/api/v2/templates")).json()["data"] == templates
    assert (await alice.http.get("/api/v2/data-sources")).json()["data"] == sources
    assert len([t for t in templates if t["templateName"] == "合同模板"]) == 1


async def test_generate_from_ids_and_a_row_range(
    shell: dict[str, str], tmp_path: Path, alice: Api, docx_renderer: None
) -> None:
    template_path = tmp_path / "t.docx"
    template_path.write_bytes(template("行：{{ name }}"))
    uploaded = await run(shell, "--json", "docs", "generate", "--template", str(template_path),
                         "--data", str(_csv(tmp_path / "forty.csv", 40)))
    assert uploaded.code == 0, uploaded.stderr
    templates = (await alice.http.get("/api/v2/templates")).json()["data"]
    sources = (await alice.http.get("/api/v2/data-sources")).json()["data"]
    template_id = next(t["templateId"] for t in templates if t["templateName"] == "t")
    source_id = next(s["dataSourceId"] for s in sources if s["name"] == "forty.csv")
    out = tmp_path / "part.zip"
    terminal = Terminal.start(shell, "docs", "generate", "--template-id", template_id,
                              "--data-source-id", source_id, "--rows", "1-30", "--wait",
                              "-o", str(out))
    assert await terminal.wait(timeout_s=300) == 0, terminal.text
    terminal.save("docs-generate-rows.txt")
    task_id = re.search(r"([0-9a-f-]{36}) 30 docx documents", terminal.text)
    assert task_id, terminal.text  # the id leads the progress line, uncut
    names = sorted(n for n in zipfile.ZipFile(out).namelist() if n.endswith(".docx"))
    assert names == [f"t/{i:05d}.docx" for i in range(1, 31)]


async def test_missing_columns_are_one_readable_line(
    shell: dict[str, str], tmp_path: Path, docx_renderer: None
) -> None:
    template_path = tmp_path / "invoice.docx"
    template_path.write_bytes(template("{{ name }} {{ amount }} {{ city }} {{ items }}"))
    result = await run(shell, "docs", "generate", "--template", str(template_path),
                       "--data", str(_csv(tmp_path / "rows.csv", 900)))
    assert result.code == 5
    assert result.stderr.strip() == (
        "conveyor: rows.csv lacks amount, city, items (400 VALIDATION_ERROR)"), result.stderr
    chinese = await run({**shell, "CONVEYOR_LANG": "zh-CN"}, "docs", "generate", "--template",
                        str(template_path), "--data", str(tmp_path / "rows.csv"))
    assert chinese.stderr.strip() == (
        "conveyor: rows.csv 缺少列：amount, city, items（400 VALIDATION_ERROR）"), chinese.stderr
    bad_range = await run(shell, "docs", "generate", "--template", str(template_path),
                          "--data", str(tmp_path / "rows.csv"), "--rows", "30-1")
    assert bad_range.code == 2 and "LAST >= FIRST" in bad_range.stderr


async def test_short_ids_and_full_ids_in_80_columns(
    tmp_path: Path, stack: Stack, alice: Api
) -> None:
    assert alice.token
    narrow = {**cli_env(tmp_path / "config", CONVEYOR_URL=stack.url,
                        CONVEYOR_TOKEN=alice.token), "COLUMNS": "80"}
    created = await alice.create_echo([{"value": 1}], name="short-id target", autoStart=False)
    task_id = created["taskId"]
    listed = await run(narrow, "tasks", "ls", "--search", task_id[:8])
    assert listed.code == 0 and task_id in listed.stdout, listed.stdout
    shown = await run(narrow, "tasks", "show", task_id[:8])
    assert shown.code == 0 and task_id in shown.stdout, shown.stderr
    started = await run(narrow, "tasks", "start", task_id[:10])
    assert started.code == 0, started.stderr
    unknown = await run(narrow, "tasks", "show", "ffffffff0")
    assert unknown.code == 5 and "404 TASK_NOT_FOUND" in unknown.stderr


async def test_an_items_detail_and_a_retrys_link_to_its_parent(
    shell: dict[str, str], alice: Api
) -> None:
    task = await alice.create_echo([{"value": 1}, {"value": 2, "fail": "permanent"}],
                                   continueOnError=True)
    await alice.wait_finished(task["taskId"])
    shown = await run(shell, "tasks", "item", task["taskId"][:13], "1")
    assert shown.code == 0, shown.stderr
    assert f"{task['taskId']} #1" in shown.stdout and '"fail":"permanent"' in shown.stdout
    assert "failed" in shown.stdout and "error:" in shown.stdout
    missing = await run(shell, "tasks", "item", task["taskId"], "7")
    assert missing.code == 5 and "404 ITEM_NOT_FOUND" in missing.stderr
    retry = (await alice.command(task["taskId"], "retry-failed")).json()["data"]
    children = (await alice.http.get("/api/v1/tasks", params={
        "parentTaskId": task["taskId"]})).json()["data"]["tasks"]
    assert [child["taskId"] for child in children] == [retry["newTaskId"]]
    # The retry's item keeps its number in the original task.
    detail = (await alice.http.get(f"/api/v1/tasks/{retry['newTaskId']}/items/1")).json()
    assert detail["data"]["parentTaskId"] == task["taskId"]
    assert detail["data"]["input"]["fail"] == "permanent"
