"""One trace per task start: the HTTP request, the scheduler's dispatch, each worker's item
handling and its S3 writes, context carried in AMQP headers. Each process writes its spans to
its own file (CONVEYOR_TRACE_FILE, the SDK's exporter), which the test reads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import FAST, Api
from tests.e2e.docs_fixtures import template
from tests.harness import Cluster, S3Endpoint, create_user, infra


@dataclass
class Traced:
    api: Api
    files: dict[str, Path]

    def spans(self, service: str) -> list[dict[str, Any]]:
        path = self.files[service]
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def traced(run_id: str, s3: S3Endpoint,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Traced]:
    database, vhost = f"conveyor_test_{run_id}_trace", f"conveyor-test-{run_id}-trace"
    url = await infra.create_database(database)
    await infra.migrate(url)
    workdir = tmp_path_factory.mktemp("traced")
    env = {"CONVEYOR_ENV": "prod", "CONVEYOR_DATABASE_URL": url,
           "CONVEYOR_AMQP_URL": await infra.create_vhost(vhost),
           "CONVEYOR_S3_ENDPOINT": s3.endpoint, "CONVEYOR_S3_ACCESS_KEY": s3.access_key,
           "CONVEYOR_S3_SECRET_KEY": s3.secret_key, "CONVEYOR_S3_SECURE": "0",
           "CONVEYOR_S3_BUCKET": s3.bucket, "CONVEYOR_GATEWAY_HOST": "127.0.0.1", **FAST,
           # The control wake-up starts tasks here, not the sweep (which has no request).
           "CONVEYOR_SCHEDULER_SWEEP_INTERVAL_S": "30",
           "CONVEYOR_DOCRENDER_OFFICE_INSTANCES": "0",
           "CONVEYOR_DOCRENDER_RENDER_PROCESSES": "1",
           # Small pools: the shared PostgreSQL has 100 connections for every engineer.
           "CONVEYOR_DB_POOL_SIZE": "3"}
    cluster = Cluster(env, workdir)
    files = {name: workdir / f"{name}.spans.jsonl"
             for name in ("scheduler", "echo", "docrender", "gateway")}
    try:
        for name, path in files.items():
            await cluster.start(name, CONVEYOR_TRACE_FILE=str(path))
        for handle in cluster.handles:
            await cluster.wait_ready(handle)
        token = await create_user(env, "trace", "tess")
        yield Traced(Api(cluster.gateway.url, token), files)
    finally:
        await cluster.stop_all()
        await infra.delete_vhost(vhost)
        await infra.drop_database(database)


def _trace_id(span: dict[str, Any]) -> str:
    return str(span["context"]["trace_id"])


async def _wait_spans(traced: Traced, service: str, trace_id: str, name: str,
                      count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 90  # a busy shared machine
    while True:
        found = [s for s in traced.spans(service)
                 if _trace_id(s) == trace_id and s["name"] == name]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, (
            f"{service}: {len(found)} {name!r} spans of the trace; it has "
            f"{sorted({s['name'] for s in traced.spans(service) if _trace_id(s) == trace_id})}")
        await asyncio.sleep(0.1)


async def test_one_trace_from_the_create_request_to_each_item(traced: Traced) -> None:
    task = await traced.api.create_echo([{"value": i} for i in range(10)], concurrency=10)
    assert (await traced.api.wait_finished(task["taskId"], timeout_s=180))["status"] == "completed"
    requests = [s for s in traced.spans("gateway") if s["name"] == "POST /api/v1/tasks"]
    assert len(requests) == 1 and requests[0]["kind"] == "SpanKind.SERVER"
    trace_id = _trace_id(requests[0])
    dispatch = await _wait_spans(traced, "scheduler", trace_id, "engine.dispatch", 1)
    items = await _wait_spans(traced, "echo", trace_id, "item.handle", 10)
    assert sorted(s["attributes"]["conveyor.item_seq"] for s in items) == list(range(10))
    assert {s["resource"]["attributes"]["service.name"] for s in
            (requests[0], dispatch[0], items[0])} == {"gateway", "scheduler", "echo"}
    # Every span of the trace hangs from another one of it: a single tree.
    spans = {s["context"]["span_id"]: s for service in traced.files
             for s in traced.spans(service) if _trace_id(s) == trace_id}
    roots = [s for s in spans.values() if s["parent_id"] not in spans]
    assert [r["name"] for r in roots] == ["POST /api/v1/tasks"]


async def test_the_trace_reaches_the_workers_s3_writes(traced: Traced) -> None:
    api = traced.api
    upload = await api.http.post("/api/v2/templates", data={"id": "trace-t"},
                                 files={"file": ("t.docx", template("行 {{ n }}"))})
    assert upload.status_code == 201, upload.text
    # Parallel, a window of 2: both documents go out in the start request's dispatch (later
    # top-ups follow result batches, which carry many traces and start their own).
    body = {"templateIds": ["trace-t"], "outputFormat": "docx", "data": [{"n": 1}, {"n": 2}],
            "mode": "parallel", "options": {"batchSize": 1, "concurrency": 2, "createZip": False}}
    task_id = (await api.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    started = await api.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    assert started.status_code == 200
    assert (await api.wait_finished(task_id, timeout_s=180))["status"] == "completed"
    # The dispatch runs in the trace of the request whose wake-up the scheduler handles once
    # the task can start: the start request's, or the create's when that wake-up is handled
    # after the start committed. Either way one request's trace reaches the worker.
    requests = [s for s in traced.spans("gateway") if s["name"] in (
        "POST /api/v2/batch/tasks", "POST /api/v2/batch/tasks/{task_id}/start")]
    assert len(requests) == 2, [s["name"] for s in requests]
    handled: set[str] = set()
    for _ in range(900):  # the worker's spans reach its file shortly after the task ends
        handled = {_trace_id(s) for s in traced.spans("docrender") if s["name"] == "item.handle"}
        if handled & {_trace_id(s) for s in requests}:
            break
        await asyncio.sleep(0.1)
    trace_id = next((_trace_id(s) for s in requests if _trace_id(s) in handled),
                    _trace_id(requests[-1]))
    await _wait_spans(traced, "docrender", trace_id, "item.handle", 2)
    # Rows in flight together are stored together (one pack object), so one write may carry both.
    await _wait_spans(traced, "docrender", trace_id, "s3.put", 1)
