"""The OpenAPI fuzz run: schemathesis over every operation of /openapi.json (examples,
coverage, fuzzing and stateful phases, all bounded by one time budget) as a tenant admin. No
response is a server error (5xx; fixed at the input boundary, services/gateway/boundary.py and
libs/inputs.py, not case by case), and every answer conforms to the document: its status,
content type, headers and body schema, `Allow` on 405 and OPTIONS, 405 for methods a path does
not take.

Not run here, and why: `positive_data_acceptance` flags every 4xx to a schema-valid request,
and this API refuses some by rules no schema states (a task not in a state that allows the
command, a retry with nothing failed, a file that is not a DOCX, a server URL whose host does
not resolve offline); `negative_data_rejection` flags the framework's lenient decoding of
bodies (a boolean given as 0 or 1 is taken as one).

It runs in its own tenant, and everything it started is cancelled afterwards so the echo worker
is free again for the tests after it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Api, Stack
from tests.harness.infra import ROOT, clean_environ

BUDGET_S = int(os.environ.get("CONVEYOR_FUZZ_BUDGET_S", "150"))
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance",
          "allow_header_conformance", "unsupported_method")


async def _cancel_everything(api: Api) -> None:
    while True:
        listed = await api.http.get("/api/v1/tasks", params={"pageSize": 100})
        tasks = [t for t in listed.json()["data"]["tasks"]
                 if t["status"] in ("pending", "running", "paused")]
        if not tasks:
            return
        for task in tasks:
            await api.command(task["taskId"], "cancel")


def _server_errors(stack: Stack) -> str:
    """What the gateway logged for each 500, to say where a fix belongs."""
    failed = []
    for line in stack.cluster.gateway.log.read_text(errors="replace").splitlines():
        if '"request.failed"' in line:
            record = json.loads(line)
            failed.append(f"{record.get('path')}: {str(record.get('exception'))[-1200:]}")
    return "\n\n".join(failed)


async def test_no_operation_answers_a_server_error(stack: Stack, tmp_path: Path) -> None:
    # Slides batches answer when they finish (seed 001's generate waits): a slides service
    # lets the documented examples finish instead of timing out.
    slides = await stack.cluster.start("slides", CONVEYOR_SLIDES_RENDER_PROCESSES="1")
    await stack.cluster.wait_for_log(slides, "worker.ready")
    fuzzer = await stack.user("fuzz", "fuzzer", admin=True)
    report = tmp_path / "junit.xml"
    argv = [
        str(Path(sys.executable).with_name("st")), "run", f"{stack.url}/openapi.json",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-time", str(BUDGET_S), "--max-examples", "25", "--workers", "1",
        "--header", f"Authorization: Bearer {fuzzer.token}",
        "--request-timeout", "30", "--max-redirects", "0",
        "--generation-database", "none", "--seed", "10",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-junit-path", str(report),
        "--exclude-path-regex", "^/(docs|redoc|schema|openapi)",
    ]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=ROOT, env={**clean_environ(), "NO_COLOR": "1", "COLUMNS": "200",
                       "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks"})
    try:
        out, _ = await asyncio.wait_for(process.communicate(), BUDGET_S + 240)
    finally:
        await _cancel_everything(fuzzer)
        await stack.cluster.kill(slides, group=True)
    text = out.decode(errors="replace")
    if process.returncode != 0:
        pytest.fail(f"schemathesis found problems ({process.returncode}):\n{text[-12000:]}\n"
                    f"gateway 500s:\n{_server_errors(stack)}")
