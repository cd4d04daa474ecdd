"""The `conveyor` CLI end to end against the running services: login, following tasks live,
exit codes, --json, Ctrl-C, and the document quick start with 1,000 rows."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import stat
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.cli_support import Terminal, cli_env, run
from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import docx_text, template
from tests.harness.docrender import running_docrender


@pytest.fixture
def shell(tmp_path: Path, stack: Stack, alice: Api) -> dict[str, str]:
    """A shell whose user is logged in through CONVEYOR_URL / CONVEYOR_TOKEN."""
    assert alice.token
    return cli_env(tmp_path / "config", CONVEYOR_URL=stack.url, CONVEYOR_TOKEN=alice.token)


async def test_login_keeps_the_token_private_and_later_commands_use_it(
    tmp_path: Path, stack: Stack, alice: Api
) -> None:
    assert alice.token
    config_home = tmp_path / "xdg"
    bare = cli_env(config_home)
    refused = await run(bare, "login", "--url", stack.url, "--token", "wrong-token")
    assert refused.code == 7 and "UNAUTHORIZED" in refused.stderr
    assert not (config_home / "conveyor" / "config.json").exists()
    not_logged_in = await run(bare, "tasks", "ls")
    assert not_logged_in.code == 7 and "conveyor login" in not_logged_in.stderr

    # The token is typed at the hidden prompt, as a person would.
    done = await run(bare, "login", "--url", stack.url, stdin=f"{alice.token}\n".encode())
    assert done.code == 0, done.stderr
    path = config_home / "conveyor" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": stack.url, "token": alice.token}
    assert alice.token not in done.stdout + done.stderr

    listed = await run(bare, "--json", "tasks", "ls")
    assert listed.code == 0, listed.stderr
    assert set(json.loads(listed.stdout)) >= {"total", "pageNum", "tasks"}


async def test_tasks_watch_follows_a_task_live(shell: dict[str, str], alice: Api) -> None:
    task = await alice.create_echo([{"value": i, "sleep_ms": 100} for i in range(40)],
                                   concurrency=2)
    watched = await run(shell, "tasks", "watch", task["taskId"], "--json")
    assert watched.code == 0, watched.stderr
    events = [json.loads(line) for line in watched.stdout.splitlines()]
    done = [e["payload"]["done"] for e in events if e["type"] == "task_progress"]
    # Many intermediate states, in order, seen while it ran: followed, not polled at the end.
    assert len(set(done)) >= 5 and done == sorted(done)
    assert events[-1]["type"] == "task_completed" and events[-1]["payload"]["done"] == 40

    # On a terminal: a live bar, redrawn as items finish.
    task = await alice.create_echo([{"value": i, "sleep_ms": 100} for i in range(40)],
                                   concurrency=2)
    terminal = Terminal.start(shell, "tasks", "watch", task["taskId"])
    assert await terminal.wait() == 0, terminal.text
    terminal.save("tasks-watch.txt")
    shown = {int(m) for m in re.findall(r"(\d+)/40", terminal.text)}
    assert len(shown) >= 3 and 40 in shown, terminal.text
    assert "items/s" in terminal.text and "ETA" in terminal.text
    assert "completed" in terminal.text


async def test_exit_codes_scripts_can_trust(shell: dict[str, str], alice: Api,
                                            stack: Stack) -> None:
    partial = await alice.create_echo([{"value": 1}, {"value": 2, "fail": "permanent"}])
    result = await run(shell, "tasks", "watch", partial["taskId"])
    assert result.code == 3 and "partial_success" in result.stderr
    assert "1 of 2 items failed" in result.stderr
    retried = await run(shell, "tasks", "retry", partial["taskId"], "--wait")
    assert retried.code == 1 and "1 of 1 items failed" in retried.stderr  # it fails again

    failed = await alice.create_echo([{"value": 1, "fail": "permanent"}],
                                     continueOnError=False)
    result = await run(shell, "tasks", "watch", failed["taskId"])
    assert result.code == 1 and "failed" in result.stderr

    running = await alice.create_echo([{"value": i, "sleep_ms": 200} for i in range(50)],
                                      concurrency=1)
    watcher = asyncio.create_task(run(shell, "tasks", "watch", running["taskId"]))
    await alice.wait_until(running["taskId"], lambda t: t["completedItems"] >= 2)
    cancelled = await run(shell, "--json", "tasks", "cancel", running["taskId"])
    assert cancelled.code == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    result = await watcher
    assert result.code == 4 and "cancelled" in result.stderr

    result = await run(shell, "tasks", "show", "no-such-task")
    assert result.code == 5 and "404 TASK_NOT_FOUND" in result.stderr
    result = await run(shell, "tasks", "pause", partial["taskId"])
    assert result.code == 5 and "INVALID_TASK_STATE" in result.stderr
    result = await run({**shell, "CONVEYOR_TOKEN": "revoked"}, "tasks", "ls")
    assert result.code == 7
    result = await run({**shell, "CONVEYOR_URL": "http://127.0.0.1:9"}, "tasks", "ls")
    assert result.code == 6 and "127.0.0.1:9" in result.stderr
    result = await run(shell, "tasks", "ls", "--status", "bogus")
    assert result.code == 2

    ok = await alice.create_echo([{"value": 1}])
    result = await run(shell, "tasks", "watch", ok["taskId"])
    assert result.code == 0 and result.stderr.count("conveyor:") == 0


async def test_ctrl_c_while_waiting_asks_whether_to_cancel(shell: dict[str, str],
                                                          alice: Api) -> None:
    items = [{"value": i, "sleep_ms": 200} for i in range(100)]
    kept = await alice.create_echo(items, concurrency=1)
    terminal = Terminal.start(shell, "tasks", "watch", kept["taskId"])
    await terminal.wait_for_text("items/s")
    terminal.interrupt()
    await terminal.wait_for_text(f"Cancel task {kept['taskId']}?")
    terminal.type("n\n")
    assert await terminal.wait() == 130
    assert "keeps running" in terminal.text
    assert (await alice.task(kept["taskId"]))["status"] == "running"
    await alice.command(kept["taskId"], "cancel")

    dropped = await alice.create_echo(items, concurrency=1)
    terminal = Terminal.start(shell, "tasks", "watch", dropped["taskId"])
    await terminal.wait_for_text("items/s")
    terminal.interrupt()
    await terminal.wait_for_text("Cancel task")
    terminal.type("y\n")
    assert await terminal.wait() == 4
    assert (await alice.task(dropped["taskId"]))["status"] == "cancelled"


async def test_json_output_is_one_parseable_document(shell: dict[str, str], alice: Api) -> None:
    task = await alice.create_echo([{"value": 1}])
    await alice.wait_finished(task["taskId"])
    shown = await run(shell, "tasks", "show", task["taskId"], "--items", "--json")
    body = json.loads(shown.stdout)
    assert body["task"]["taskId"] == task["taskId"] and body["items"][0]["status"] == "done"
    slow = await alice.create_echo([{"value": i, "sleep_ms": 200} for i in range(20)],
                                   concurrency=1)
    for action, status in (("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        answer = await run(shell, "tasks", action, slow["taskId"], "--json")
        assert answer.code == 0 and json.loads(answer.stdout)["status"] == status, answer
    servers = await run(shell, "--json", "servers", "ls")
    assert servers.code == 0 and isinstance(json.loads(servers.stdout), list)
    refused = await run(shell, "batch", "process", "--workflow", "docx-to-pdf", "--folder", "/in",
                        "--server", "nowhere", "--output-root", "/out")
    assert refused.code == 5 and "404" in refused.stderr


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docrender(stack: Stack) -> AsyncIterator[None]:
    async with running_docrender(stack.cluster, pdf=True):
        yield


async def test_docs_generate_quick_start_with_1000_rows(
    shell: dict[str, str], tmp_path: Path, docrender: None
) -> None:
    """Seed 000's quick start (its template's fields, its rows' shape), 1,000 CSV rows."""
    template_path = tmp_path / "销售合同模板.docx"
    template_path.write_bytes(template("销售合同模板: {{ name }}", "年龄 {{ age }}",
                                       "邮箱 {{ email }}"))
    rows = io.StringIO()
    writer = csv.DictWriter(rows, ["name", "age", "email"])
    writer.writeheader()
    writer.writerows({"name": f"客户{i}", "age": 20 + i % 50, "email": f"c{i}@example.com"}
                     for i in range(1000))
    data_path = tmp_path / "rows.csv"
    data_path.write_text(rows.getvalue(), encoding="utf-8")
    out = tmp_path / "out.zip"

    terminal = Terminal.start(shell, "docs", "generate", "--template", str(template_path),
                              "--data", str(data_path), "--format", "docx", "--parallel",
                              "--wait", "-o", str(out))
    assert await terminal.wait(timeout_s=600) == 0, terminal.text
    terminal.save("docs-generate-1000.txt")
    shown = {int(m) for m in re.findall(r"(\d+)/1000", terminal.text)}
    assert len(shown) >= 3 and 1000 in shown, terminal.text  # a bar that moved
    assert "items/s" in terminal.text and "ETA" in terminal.text
    archive = zipfile.ZipFile(out)
    documents = [n for n in archive.namelist() if n.endswith(".docx")]
    assert len(documents) == 1000 and "manifest.json" in archive.namelist()
    assert len(json.loads(archive.read("manifest.json"))) == 1000
    assert "客户999" in docx_text(archive.read(sorted(documents)[-1]))


async def test_docs_generate_pdf_json(shell: dict[str, str], tmp_path: Path,
                                      docrender: None) -> None:
    template_path = tmp_path / "t.docx"
    template_path.write_bytes(template("客户：{{ name }}"))
    data_path = tmp_path / "rows.json"
    data_path.write_text(json.dumps([{"name": "王小明"}, {"name": "赵丽"}]), encoding="utf-8")
    out = tmp_path / "pdf.zip"
    result = await run(shell, "--json", "docs", "generate", "--template", str(template_path),
                       "--data", str(data_path), "--format", "pdf", "--wait", "-o", str(out),
                       timeout_s=300)
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["task"]["status"] == "completed" and body["zip"] == str(out)
    names = zipfile.ZipFile(out).namelist()
    assert sorted(n for n in names if n.endswith(".pdf")) == ["t/00001.pdf", "t/00002.pdf"]
