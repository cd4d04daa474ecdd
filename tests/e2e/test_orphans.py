"""A worker service killed with SIGKILL mid-batch takes everything it started with it (render
pool, multiprocessing's resource tracker, LibreOffice), its temp folder goes at the next start,
and the batch still completes."""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from pathlib import Path

from libs.office.pool import MEMORY_SCRATCH, scratch_root
from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.e2e.slides_support import deck, start_slides, wait_status
from tests.harness import ServiceHandle
from tests.harness.docrender import start_docrender
from tests.harness.processes import alive, descendants

GONE_WITHIN_S = 10.0


async def _kill_and_expect_no_orphans(stack: Stack, handle: ServiceHandle,
                                      expected_children: int) -> set[int]:
    children = descendants(handle.pid)
    assert len(children) >= expected_children, children
    assert await stack.cluster.kill(handle, signal.SIGKILL) == -signal.SIGKILL
    deadline = time.monotonic() + GONE_WITHIN_S
    while True:
        left = {pid for pid in children if alive(pid)}
        if not left or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert not left, f"orphans after kill -9: {left}"
    return children


def _office_dirs(pid: int) -> list[Path]:
    """The pool's folder: in memory (/dev/shm) where the machine has it."""
    root = scratch_root(MEMORY_SCRATCH) or Path(tempfile.gettempdir())
    return list(root.glob(f"conveyor-office-{pid}-*"))


async def test_docrender_killed_mid_batch_leaves_no_process_or_folder(
    stack: Stack, alice: Api
) -> None:
    handle = await start_docrender(stack.cluster, pdf=True)
    upload = await alice.http.post("/api/v2/templates", data={"id": "orphans-tpl"},
                                   files={"file": ("t.docx", template("第 {{ n }} 号"))})
    assert upload.status_code in (201, 409), upload.text
    body = {"templateIds": ["orphans-tpl"], "outputFormat": "pdf",
            "data": [{"n": i} for i in range(40)], "options": {"concurrency": 4}}
    created = await alice.http.post("/api/v2/batch/tasks", json=body)
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["taskId"]
    assert (await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")).status_code == 200
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 2, timeout_s=120)
    assert _office_dirs(handle.pid)

    # render pool (2) + resource tracker + the office bridge with its LibreOffice processes
    await _kill_and_expect_no_orphans(stack, handle, expected_children=5)

    restarted = await stack.cluster.restart(handle)
    await stack.cluster.wait_for_log(restarted, "worker.ready")
    assert not _office_dirs(handle.pid), "the dead instance's office folder was not removed"
    final = await alice.wait_finished(task_id, timeout_s=180)
    assert final["status"] == "completed" and final["completedItems"] == 40
    await stack.cluster.kill(restarted)


async def test_slides_killed_mid_batch_leaves_no_process(stack: Stack, alice: Api) -> None:
    handle = await start_slides(stack)
    created = await alice.http.post("/api/slide/batch/generate", json={
        "slides": deck(30, "orphans"), "wait": False, "max_workers": 2})
    assert created.status_code == 202, created.text
    batch_id = created.json()["batch_id"]
    await alice.wait_until(batch_id, lambda t: t["completedItems"] >= 1, timeout_s=60)

    await _kill_and_expect_no_orphans(stack, handle, expected_children=3)  # pool (2) + tracker

    restarted = await start_slides(stack)
    final = await wait_status(alice, batch_id, timeout_s=120)
    assert final["status"] == "completed" and final["completed_slides"] == 30
    await stack.cluster.kill(restarted)
