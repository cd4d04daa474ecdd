"""Artifacts are facts to check: objects lost from S3 under a finished and a running batch
give documented errors (410 ZIP_GONE, a finalize that fails with the count of missing
documents, items that say TEMPLATE_FILE_MISSING at once), never a `completed` with nothing
behind it; retry-failed renders exactly the missing documents and its ZIP is the whole batch."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from minio import Minio
from minio.deleteobjects import DeleteObject

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.harness.docrender import running_docrender

ROWS = 12


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docrender(stack: Stack) -> AsyncIterator[None]:
    async with running_docrender(stack.cluster, pdf=False):
        yield


def _s3(stack: Stack) -> Minio:
    env = stack.env
    return Minio(env["CONVEYOR_S3_ENDPOINT"], env["CONVEYOR_S3_ACCESS_KEY"],
                 env["CONVEYOR_S3_SECRET_KEY"], secure=False)


def _wipe(stack: Stack, prefix: str, contains: str = "") -> int:
    """Lose every object under `prefix`, as an endpoint that lost its data would."""
    client, bucket = _s3(stack), stack.env["CONVEYOR_S3_BUCKET"]
    keys = [o.object_name or "" for o in client.list_objects(bucket, prefix, recursive=True)
            if contains in (o.object_name or "")]
    assert not list(client.remove_objects(bucket, (DeleteObject(k) for k in keys)))
    return len(keys)


async def _upload(api: Api, template_id: str) -> None:
    response = await api.http.post("/api/v2/templates", data={"id": template_id},
                                   files={"file": ("t.docx", template("第 {{ n }} 号"))})
    assert response.status_code in (201, 409), response.text


async def _create(api: Api, template_id: str, rows: int, **options: Any) -> str:
    body = {"templateIds": [template_id], "outputFormat": "docx",
            "data": [{"n": i} for i in range(rows)], "options": options}
    response = await api.http.post("/api/v2/batch/tasks", json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["taskId"]
    return task_id


async def _zip_names(api: Api, task_id: str) -> tuple[list[str], list[dict[str, Any]]]:
    response = await api.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert response.status_code == 302, response.text
    async with httpx.AsyncClient(trust_env=False) as plain:
        archive = zipfile.ZipFile(io.BytesIO((await plain.get(response.headers["location"]))
                                             .content))
    names = sorted(n for n in archive.namelist() if n != "manifest.json")
    return names, json.loads(archive.read("manifest.json"))


async def _failed_seqs(api: Api, task_id: str) -> list[int]:
    response = await api.http.get(f"/api/v1/tasks/{task_id}/items",
                                  params={"status": "failed", "pageSize": 1000})
    return [i["seq"] for i in response.json()["data"]["items"]]


async def test_finished_batch_whose_zip_is_gone_answers_410(
    stack: Stack, alice: Api, docrender: None
) -> None:
    await _upload(alice, "lost-finished")
    task_id = await _create(alice, "lost-finished", 3)
    await alice.command(task_id, "start")
    assert (await alice.wait_finished(task_id))["status"] == "completed"
    assert len((await _zip_names(alice, task_id))[0]) == 3
    assert _wipe(stack, f"tasks/{task_id}/") == 4  # 3 documents + the ZIP

    gone = await alice.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert gone.status_code == 410, gone.text
    error = gone.json()["error"]
    assert error["code"] == "ZIP_GONE" and task_id in error["message"]


async def test_running_batch_loses_documents_then_retry_failed_renders_exactly_them(
    stack: Stack, alice: Api, docrender: None
) -> None:
    await _upload(alice, "lost-running")
    task_id = await _create(alice, "lost-running", ROWS, batchSize=1, concurrency=1,
                            parallelProcessing=True)
    await alice.command(task_id, "start")
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 4, timeout_s=60)
    assert _wipe(stack, f"tasks/{task_id}/") >= 1  # documents are stored in packs

    final = await alice.wait_finished(task_id, timeout_s=60)
    lost = final["failedItems"]  # those rendered before the wipe; the rest after it
    assert final["status"] == "failed" and 4 <= lost < ROWS
    assert final["errorMessage"] == (
        f"finalization failed: OBJECT_MISSING: {lost} of {ROWS} documents are no longer "
        "stored; retry-failed renders them again")
    assert (final["completedItems"], final["failedItems"]) == (ROWS - lost, lost)
    missing = await _failed_seqs(alice, task_id)
    assert len(missing) == lost
    early = await alice.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert early.status_code == 409  # no ZIP was made of an incomplete batch

    retry = (await alice.command(task_id, "retry-failed")).json()["data"]
    assert sorted(retry["itemSeqs"]) == sorted(missing)
    retry_id = retry["newTaskId"]
    retried = await alice.wait_finished(retry_id, timeout_s=60)
    assert retried["status"] == "completed" and retried["totalItems"] == lost
    names, manifest = await _zip_names(alice, retry_id)
    assert names == [f"t.docx/{i + 1:05d}.docx" for i in range(ROWS)]  # named by the file
    assert [row["rowIndex"] for row in manifest] == list(range(ROWS))
    assert {row["status"] for row in manifest} == {"done"}


async def test_template_file_gone_fails_items_at_once_and_refuses_new_batches(
    stack: Stack, alice: Api, docrender: None
) -> None:
    await _upload(alice, "lost-template")
    task_id = await _create(alice, "lost-template", 3, continueOnError=True)
    assert _wipe(stack, "templates/", contains="/lost-template-") == 1
    await alice.command(task_id, "start")
    final = await alice.wait_finished(task_id, timeout_s=30)
    assert final["status"] == "failed" and final["errorMessage"] == "3 of 3 items failed"
    items = (await alice.http.get(f"/api/v1/tasks/{task_id}/items")).json()["data"]["items"]
    assert {(i["attempt"], i["error"]) for i in items} == {
        (1, "TEMPLATE_FILE_MISSING: the file of template lost-template is no longer stored")}

    refused = await alice.http.post("/api/v2/batch/tasks", json={
        "templateIds": ["lost-template"], "outputFormat": "docx", "data": [{"n": 1}]})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "TEMPLATE_FILE_MISSING" and "lost-template" in error["message"]
