"""The batch ZIP: one entry per document whatever the templates are called, a manifest that
matches the entries, and the renderer each template got at upload."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import docx_text, template
from tests.harness.docrender import running_docrender


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def docx_renderer(stack: Stack) -> AsyncIterator[None]:
    async with running_docrender(stack.cluster, pdf=False):
        yield


async def _upload(api: Api, content: bytes, name: str) -> dict[str, object]:
    response = await api.http.post("/api/v2/templates", data={"name": name},
                                   files={"file": ("t.docx", content)})
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def test_entries_are_unique_and_the_manifest_matches(
    alice: Api, docx_renderer: None
) -> None:
    names = ["合同", "合同", "a/b", "a?b", "manifest.json"]
    uploaded = [await _upload(alice, template(f"{n} #{i}: {{{{ name }}}}"), n)
                for i, n in enumerate(names)]
    assert all(t["renderer"] == "parts" and t["rendererReason"] is None for t in uploaded)
    rows = [{"name": f"客户{i}"} for i in range(7)]
    body = {"templateIds": [t["templateId"] for t in uploaded], "outputFormat": "docx",
            "data": rows, "mode": "parallel", "options": {"concurrency": 16, "batchSize": 4}}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    final = await alice.wait_finished(task_id, 120)
    assert (final["status"], final["completedItems"]) == ("completed", 35), final
    redirect = await alice.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    async with httpx.AsyncClient() as plain:
        download = await plain.get(redirect.headers["location"])
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert archive.testzip() is None
    entries = archive.namelist()
    documents = [name for name in entries if name != "manifest.json"]
    assert len(entries) == len(set(entries)) == 36 and len(documents) == 35
    assert len({name.lower() for name in entries}) == 36
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest) == 35 and sorted(m["file"] for m in manifest) == sorted(documents)
    for line in manifest:  # every file holds its own template's text for its own row
        index = [t["templateId"] for t in uploaded].index(line["templateId"])
        text = docx_text(archive.read(line["file"]))
        assert f"{names[index]} #{index}: 客户{line['rowIndex']}" in text, (line, text)


async def test_a_template_the_fast_path_cannot_prove_renders_through_docxtpl(
    alice: Api, docx_renderer: None
) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Report for {{ name }}"  # only docxtpl renders properties
    document.add_paragraph("Hello {{ name }}")
    out = io.BytesIO()
    document.save(out)
    uploaded = await _upload(alice, out.getvalue(), "fallback")
    assert uploaded["renderer"] == "docxtpl"
    assert "core property 'title'" in str(uploaded["rendererReason"])
    body = {"templateIds": [uploaded["templateId"]], "outputFormat": "docx",
            "data": [{"name": "张三"}, {"name": "李四"}]}
    task_id = (await alice.http.post("/api/v2/batch/tasks", json=body)).json()["data"]["taskId"]
    await alice.http.post(f"/api/v2/batch/tasks/{task_id}/start")
    assert (await alice.wait_finished(task_id, 120))["status"] == "completed"
    redirect = await alice.http.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    async with httpx.AsyncClient() as plain:
        download = await plain.get(redirect.headers["location"])
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    rendered = docx.Document(io.BytesIO(archive.read("fallback/00002.docx")))
    assert rendered.core_properties.title == "Report for 李四"
    assert "Hello 李四" in docx_text(archive.read("fallback/00002.docx"))
