"""Seed 000 end to end: templates, the quick start, control, ZIP, PDF with Chinese, security."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pypdf
import pytest
import pytest_asyncio

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import docx_text, template, zip_bomb
from tests.harness.docrender import running_docrender

ROWS = [{"name": "张三", "age": 30, "email": "zhangsan@example.com"},
        {"name": "李四", "age": 25, "email": "lisi@example.com"}]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docrender(stack: Stack) -> AsyncIterator[None]:
    async with running_docrender(stack.cluster, pdf=True):
        yield


async def _upload(api: Api, content: bytes, template_id: str | None = None,
                  name: str | None = None, filename: str = "t.docx") -> httpx.Response:
    form = {k: v for k, v in {"id": template_id, "name": name}.items() if v}
    return await api.http.post("/api/v2/templates", data=form,
                               files={"file": (filename, content)})


async def _ensure_quickstart_templates(api: Api) -> None:
    for template_id, name in (("template-001", "销售合同模板"), ("template-002", "采购订单模板")):
        response = await _upload(api, template(
            f"{name}: {{{{ name }}}}", "年龄 {{ age }}", "邮箱 {{ email }}"), template_id, name)
        assert response.status_code in (201, 409), response.text


async def _zip(api: Api, task_id: str) -> zipfile.ZipFile:
    response = await api.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert response.status_code == 302, response.text
    async with httpx.AsyncClient() as plain:  # the presigned URL needs no token
        download = await plain.get(response.headers["location"])
    assert download.status_code == 200
    return zipfile.ZipFile(io.BytesIO(download.content))


async def _finished(api: Api, task_id: str, timeout_s: float = 120) -> dict[str, Any]:
    return await api.wait_finished(task_id, timeout_s)


async def test_quick_start_as_written(stack: Stack, alice: Api, docrender: None) -> None:
    async with httpx.AsyncClient() as plain:
        health = (await plain.get(f"{stack.url}/api/v2/health")).json()
    # What the quick start checks: the engine and the template and WebSocket services run
    # (other services this shared stack's earlier tests stopped may make the whole "degraded").
    assert health["status"] in ("healthy", "degraded"), health
    for service in ("scheduler", "templateManager", "websocketServer"):
        assert health["services"][service] == "running", health
    await _ensure_quickstart_templates(alice)
    body = {"dataSourceId": "ds-001", "templateIds": ["template-001", "template-002"],
            "outputFormat": "docx", "mode": "sequential", "data": ROWS,
            "options": {"batchSize": 10, "parallelProcessing": False, "createZip": True}}
    created = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()
    assert created["success"] is True and set(created["meta"]) == {
        "requestId", "timestamp", "version", "executionTime"}
    data = created["data"]
    assert data["status"] == "pending" and data["estimatedDocumentCount"] == 4
    assert [i["estimatedCount"] for i in data["items"]] == [2, 2]
    assert data["items"][0]["templateName"] == "销售合同模板"
    assert data["websocketUrl"].endswith(f"/v2/stream/{data['taskId']}")
    task_id = data["taskId"]

    early = await alice.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert early.status_code == 409 and early.json()["error"]["code"] == "DOWNLOAD_FAILED"

    stream = await stack.open_stream(alice)
    await stream.send({"action": "subscribe", "channels": ["task_progress"],
                       "filters": {"taskId": task_id}})
    await stream.wait_for("subscribed")
    started = (await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")).json()["data"]
    assert started["status"] == "running" and started["startedAt"]
    assert (await stream.wait_for("task_started"))["payload"]["totalDocuments"] == 4
    completed = await stream.wait_for("task_completed", timeout_s=60)
    assert completed["payload"]["status"] == "completed"
    await stream.close()

    progress = (await alice.http.get(f"/api/v2/batch/tasks/{task_id}/progress")).json()["data"]
    assert progress["progress"] == 100 and progress["completedSteps"] == 4
    assert [(i["templateId"], i["completedCount"], i["totalCount"]) for i in progress["items"]] \
        == [("template-001", 2, 2), ("template-002", 2, 2)]
    archive = await _zip(alice, task_id)
    names = sorted(archive.namelist())
    assert names == ["manifest.json", "采购订单模板/00001.docx", "采购订单模板/00002.docx",
                     "销售合同模板/00001.docx", "销售合同模板/00002.docx"]
    text = docx_text(archive.read("销售合同模板/00002.docx"))
    assert "销售合同模板: 李四" in text and "lisi@example.com" in text and "25" in text
    manifest = json.loads(archive.read("manifest.json"))
    assert {(m["templateId"], m["rowIndex"], m["status"]) for m in manifest} == {
        (t, r, "done") for t in ("template-001", "template-002") for r in (0, 1)}


async def test_pause_resume_cancel_reporting_completed_documents(
    alice: Api, docrender: None
) -> None:
    await _ensure_quickstart_templates(alice)
    rows = [{"name": f"n{i}", "age": i, "email": f"{i}@x.cn"} for i in range(300)]
    body = {"templateIds": ["template-001"], "outputFormat": "docx", "data": rows,
            "options": {"batchSize": 1, "createZip": True}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 5)
    paused = (await alice.http.post(f"/api/v2/batch/tasks/{task_id}/pause")).json()["data"]
    assert paused["status"] == "paused" and paused["pausedAt"]
    resumed = (await alice.http.post(f"/api/v2/batch/tasks/{task_id}/resume")).json()["data"]
    assert resumed["status"] == "running" and resumed["resumedAt"]
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 10)
    cancelled = (await alice.http.post(f"/api/v2/batch/tasks/{task_id}/cancel")).json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["completedDocuments"] >= 10
    assert cancelled["message"] == f"任务已取消，已生成{cancelled['completedDocuments']}个文档"


async def test_pdf_with_chinese_text(alice: Api, docrender: None) -> None:
    response = await _upload(alice, template("客户：{{ name }}", "地址：{{ city }}"),
                             name="中文合同")
    template_id = response.json()["data"]["templateId"]
    rows = [{"name": "王小明", "city": "北京市海淀区"}, {"name": "赵丽", "city": "上海浦东"}]
    body = {"templateIds": [template_id], "outputFormat": "pdf", "data": rows,
            "mode": "parallel", "options": {"concurrency": 2}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    final = await _finished(alice, task_id)
    assert final["status"] == "completed", final
    archive = await _zip(alice, task_id)
    for index, row in enumerate(rows):
        pdf = pypdf.PdfReader(io.BytesIO(archive.read(f"中文合同/{index + 1:05d}.pdf")))
        text = "".join(page.extract_text() for page in pdf.pages)
        assert row["name"] in text and row["city"] in text, text


async def test_merged_pdfs_one_per_row_and_a_bad_row_fails_alone(
    alice: Api, docrender: None
) -> None:
    """A merge-safe template's PDF rows are converted together: the ZIP holds one PDF per row
    under the usual names, a row the template refuses fails alone, and retry-failed's ZIP is
    still the whole batch."""
    from tests.unit.pdf_corpus import total_pages

    response = await _upload(alice, template(
        "合同 {{ name }}", "{% if bad %}{{ ''.__class__.__mro__ }}{% endif %}"), name="合并")
    uploaded = response.json()["data"]
    assert (uploaded["pdfMode"], uploaded["pdfModeReason"]) == ("merged", None), uploaded
    single = (await _upload(alice, total_pages(), name="总页数")).json()["data"]
    assert single["pdfMode"] == "single" and "NUMPAGES" in single["pdfModeReason"]
    rows = [{"name": f"客户{i}", "bad": i == 2} for i in range(6)]
    body = {"templateIds": [uploaded["templateId"]], "outputFormat": "pdf", "data": rows,
            "mode": "parallel",
            "options": {"concurrency": 2, "batchSize": 4, "continueOnError": True}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    final = await _finished(alice, task_id)
    assert (final["status"], final["completedItems"], final["failedItems"]) == (
        "partial_success", 5, 1), final
    archive = await _zip(alice, task_id)
    manifest = json.loads(archive.read("manifest.json"))
    assert [m["status"] for m in manifest] == ["done", "done", "failed", "done", "done", "done"]
    assert "sandbox" in manifest[2]["error"]
    for index, row in enumerate(rows):
        if index != 2:
            pdf = pypdf.PdfReader(io.BytesIO(archive.read(f"合并/{index + 1:05d}.pdf")))
            assert len(pdf.pages) == 1
            assert row["name"] in pdf.pages[0].extract_text().replace(" ", "")


async def test_merged_pdfs_lost_then_retry_failed_makes_the_whole_zip(
    stack: Stack, alice: Api, docrender: None
) -> None:
    """PDF packs lost from the bucket while the batch runs: its finalize fails naming them,
    retry-failed converts exactly those again and its ZIP is the whole batch, one PDF per row
    under the usual names."""
    from tests.e2e.test_lost_artifacts import _wipe

    response = await _upload(alice, template("第 {{ n }} 号"), name="丢失")
    assert response.json()["data"]["pdfMode"] == "merged"
    rows = 8
    body = {"templateIds": [response.json()["data"]["templateId"]], "outputFormat": "pdf",
            "data": [{"n": i} for i in range(rows)], "mode": "parallel",
            "options": {"concurrency": 1, "batchSize": 2}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    await alice.wait_until(task_id, lambda t: t["completedItems"] >= 2, timeout_s=60)
    assert _wipe(stack, f"tasks/{task_id}/") >= 1
    final = await _finished(alice, task_id)
    assert final["status"] == "failed" and "OBJECT_MISSING" in final["errorMessage"], final
    retry = (await alice.command(task_id, "retry-failed")).json()["data"]
    retried = await _finished(alice, retry["newTaskId"])
    assert retried["status"] == "completed", retried
    archive = await _zip(alice, retry["newTaskId"])
    names = sorted(n for n in archive.namelist() if n != "manifest.json")
    assert names == [f"丢失/{i + 1:05d}.pdf" for i in range(rows)]
    for index in range(rows):
        text = pypdf.PdfReader(io.BytesIO(archive.read(names[index]))).pages[0].extract_text()
        assert f"第{index}号" in text.replace(" ", ""), text


async def test_sandbox_blocks_python_internals_and_fails_only_that_item(
    alice: Api, docrender: None
) -> None:
    evil = (await _upload(alice, template("{{ name }} {{ ''.__class__.__mro__ }}"))).json()
    good = (await _upload(alice, template("hello {{ name }}"))).json()
    body = {"templateIds": [evil["data"]["templateId"], good["data"]["templateId"]],
            "outputFormat": "docx", "data": [{"name": "x"}],
            "options": {"continueOnError": True}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    final = await _finished(alice, task_id)
    assert (final["status"], final["failedItems"], final["completedItems"]) == (
        "partial_success", 1, 1)
    items = (await alice.http.get(f"/api/v1/tasks/{task_id}/items")).json()["data"]["items"]
    failed = next(i for i in items if i["status"] == "failed")
    assert "sandbox" in failed["error"] and "__class__" in failed["error"]
    assert failed["attempt"] == 1, "a template error is not retried"


@pytest.mark.parametrize(("content", "message"), [
    (zip_bomb(), "zip bomb"),
    (b"%PDF-1.4 not a docx at all", "not a DOCX"),
    (template("{% for x in items %} unclosed"), "template syntax error"),
])
async def test_bad_template_uploads_are_refused(
    alice: Api, content: bytes, message: str
) -> None:
    response = await _upload(alice, content)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "INVALID_TEMPLATE"
    assert message in response.json()["message"]


async def test_validation_errors_use_the_seed_envelope(alice: Api) -> None:
    await _ensure_quickstart_templates(alice)
    missing = await alice.http.post("/api/v2/batch/tasks", json={
        "templateIds": ["template-001"], "outputFormat": "docx", "data": [{"name": "a"}]})
    assert missing.status_code == 400
    error = missing.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and missing.json()["success"] is False
    assert {d["field"] for d in error["details"]} == {"data[0].age", "data[0].email"}
    empty = await alice.http.post("/api/v2/batch/tasks", json={
        "templateIds": [], "outputFormat": "docx", "data": ROWS})
    assert empty.json()["error"]["details"][0]["field"] == "templateIds"
    unknown = await alice.http.post("/api/v2/batch/tasks", json={
        "templateIds": ["nope"], "outputFormat": "docx", "data": ROWS})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "TEMPLATE_NOT_FOUND"
    wrong_format = await alice.http.post("/api/v2/batch/tasks", json={
        "templateIds": ["template-001"], "outputFormat": "odt", "data": ROWS})
    assert wrong_format.json()["error"]["details"][0]["field"] == "outputFormat"


async def test_rows_from_an_uploaded_csv_and_xlsx(alice: Api, docrender: None) -> None:
    from openpyxl import Workbook

    await _ensure_quickstart_templates(alice)
    csv = "name,age,email\n甲,1,a@x.cn\n乙,2,b@x.cn\n".encode()
    sheet = Workbook()
    sheet.active.append(["name", "age", "email"])
    sheet.active.append(["丙", 3, "c@x.cn"])
    xlsx = io.BytesIO()
    sheet.save(xlsx)
    for filename, content, count in (("rows.csv", csv, 2), ("rows.xlsx", xlsx.getvalue(), 1)):
        uploaded = await alice.http.post("/api/v2/data-sources",
                                         files={"file": (filename, content)})
        assert uploaded.status_code == 201, uploaded.text
        source = uploaded.json()["data"]
        assert source["rowCount"] == count and source["columns"] == ["age", "email", "name"]
        body = {"dataSourceId": source["dataSourceId"], "templateIds": ["template-001"],
                "outputFormat": "docx"}
        created = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()
        task_id = created["data"]["taskId"]
        await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
        assert (await _finished(alice, task_id))["completedItems"] == count


async def test_another_tenant_cannot_touch_templates_or_batches(
    alice: Api, mallory: Api, docrender: None
) -> None:
    await _ensure_quickstart_templates(alice)
    assert (await mallory.http.get("/api/v2/templates/template-001")).status_code == 404
    body = {"templateIds": ["template-001"], "outputFormat": "docx", "data": ROWS}
    refused = await mallory.http.post("/api/v2/batch/tasks", json=body)
    assert refused.status_code == 404
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    for method, route in [("POST", "start"), ("POST", "pause"), ("POST", "resume"),
                          ("POST", "cancel"), ("GET", "progress"), ("GET", "download/zip")]:
        response = await mallory.http.request(method, f"/api/v2/batch/tasks/{task_id}/{route}")
        assert response.status_code == 404, (route, response.text)


async def test_a_1000_row_batch_zip_is_complete_and_correct(
    alice: Api, docrender: None
) -> None:
    await _ensure_quickstart_templates(alice)
    rows = [{"name": f"客户{i}", "age": i, "email": f"u{i}@example.com"} for i in range(1000)]
    body = {"templateIds": ["template-001"], "outputFormat": "docx", "data": rows,
            "mode": "parallel", "options": {"concurrency": 8, "batchSize": 10}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    final = await _finished(alice, task_id, timeout_s=300)
    assert (final["status"], final["completedItems"]) == ("completed", 1000)
    archive = await _zip(alice, task_id)
    names = set(archive.namelist())
    assert names == {f"销售合同模板/{i:05d}.docx" for i in range(1, 1001)} | {"manifest.json"}
    for index in (0, 499, 999):
        text = docx_text(archive.read(f"销售合同模板/{index + 1:05d}.docx"))
        assert f"客户{index}" in text and f"u{index}@example.com" in text
    manifest = json.loads(archive.read("manifest.json"))
    assert sorted(m["rowIndex"] for m in manifest) == list(range(1000))
