"""The OpenAPI fuzz run: schemathesis over every operation of /openapi.json (examples,
coverage, fuzzing and stateful phases, all bounded by one time budget) as a tenant admin, with
one check: no response is a server error (5xx). A 5xx it finds is fixed at the input boundary
(services/gateway/boundary.py, libs/inputs.py), not case by case.

It runs in its own tenant, and everything it started is cancelled afterwards so the echo worker
is free again for the tests after it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Api, Stack
from tests.harness.infra import clean_environ

BUDGET_S = int(os.environ.get("CONVEYOR_FUZZ_BUDGET_S", "150"))


async def _cancel_everything(api: Api) -> None:
    while True:
        listed = await api.http.get("/api/v1/tasks", params={"pageSize": 100})
        tasks = [t for t in listed.json()["data"]["tasks"]
                 if t["status"] in ("pending", "running", "paused")]
        if not tasks:
            return
        for task in tasks:
            await api.command(task["taskId"], "cancel")


async def test_no_operation_answers_a_server_error(stack: Stack, tmp_path: Path) -> None:
    fuzzer = await stack.user("fuzz", "fuzzer", admin=True)
    report = tmp_path / "junit.xml"
    argv = [
        str(Path(sys.executable).with_name("st")), "run", f"{stack.url}/openapi.json",
        "--checks", "not_a_server_error",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-time", str(BUDGET_S), "--max-examples", "25", "--workers", "2",
        "--header", f"Authorization: Bearer {fuzzer.token}",
        "--request-timeout", "30", "--max-redirects", "0",
        "--generation-database", "none", "--seed", "10",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-junit-path", str(report),
        "--exclude-path-regex", "^/(docs|redoc|schema|openapi)",
    ]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**clean_environ(), "NO_COLOR": "1", "COLUMNS": "200"})
    try:
        out, _ = await asyncio.wait_for(process.communicate(), BUDGET_S + 240)
    finally:
        await _cancel_everything(fuzzer)
    text = out.decode(errors="replace")
    if process.returncode != 0 and "Server error" not in text and "5xx" not in text:
        pytest.fail(f"schemathesis did not run cleanly ({process.returncode}):\n{text[-6000:]}")
    assert process.returncode == 0, text[-12000:]
