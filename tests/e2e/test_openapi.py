"""The OpenAPI document as a contract: valid, every operation's success typed, every error the
real envelope, a bearer scheme, examples; real answers match it; a standard generator makes a
working client from it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openapi_spec_validator import validate

from tests.e2e.conftest import Api, Stack
from tests.e2e.docs_fixtures import template
from tests.e2e.openapi_support import (
    Doc,
    generate_client,
    is_typed,
    operations,
    resolve,
    run_with_client,
    validate_answer,
)
from tests.e2e.slides_support import start_slides, stop_slides

PUBLIC = {("get", "/api/v2/health")}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def doc(stack: Stack) -> Doc:
    async with httpx.AsyncClient() as plain:  # the document needs no token
        response = await plain.get(f"{stack.url}/openapi.json")
    assert response.status_code == 200
    body: Doc = response.json()
    return body


def test_document_is_valid_openapi(doc: Doc) -> None:
    validate(doc)  # openapi-spec-validator: raises on any violation
    assert doc["openapi"].startswith("3.1")


def test_every_operation_has_a_typed_success(doc: Doc) -> None:
    untyped = []
    for method, path, op in operations(doc):
        successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        redirect = set(op["responses"]) & {"302", "303", "307"}
        if redirect and not successes:
            assert "location" in op["responses"][redirect.pop()]["headers"]
            continue
        if not successes:
            untyped.append(f"{method.upper()} {path}: no 2xx")
        for code, response in successes.items():
            for media, content in response.get("content", {}).items():
                if not is_typed(doc, content["schema"]):
                    untyped.append(f"{method.upper()} {path} {code} {media}")
    assert len(operations(doc)) >= 65
    assert untyped == []


def test_every_error_is_the_envelope_and_the_bearer_scheme_is_declared(doc: Doc) -> None:
    assert doc["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http", "scheme": "bearer", "description": pytest.approx(
            doc["components"]["securitySchemes"]["BearerToken"]["description"])}
    assert doc["security"] == [{"BearerToken": []}]
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"success", "code", "message", "data", "detail",
                                         "error", "timestamp"}
    for method, path, op in operations(doc):
        public = (method, path) in PUBLIC
        assert ("security" in op and op["security"] == [{}]) == public, (method, path)
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        if not public:
            assert {"400", "401"} <= set(errors), (method, path)
        for code, response in errors.items():
            if public:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, code)


def test_main_requests_have_examples(doc: Doc) -> None:
    for method, path in [("post", "/api/v1/tasks"), ("post", "/api/v2/batch/tasks"),
                         ("post", "/api/slide/batch/generate"),
                         ("post", "/api/v1/knowledge-bases"),
                         ("post", "/api/v1/knowledge-bases/{kb_id}/sync"),
                         ("post", "/api/v1/knowledge-bases/{kb_id}/search"),
                         ("post", "/servers/register"), ("post", "/batch/process")]:
        schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"][
            "schema"]
        assert schema.get("examples"), (method, path)
        target = resolve(doc, schema)
        for example in schema["examples"]:
            assert set(example) <= set(target["properties"]), (path, example)


async def _checked(doc: Doc, api: Api, method: str, path: str, status: int, url: str,
                   **kwargs: Any) -> Any:
    response = await api.http.request(method.upper(), url, **kwargs)
    assert response.status_code == status, (url, response.text)
    body = response.json()
    validate_answer(doc, method, path, status, body)
    return body


async def test_real_answers_match_the_document(doc: Doc, alice: Api) -> None:
    """Answers of every area, as the running gateway gives them, validated against the
    document's schemas (so the schemas describe what is really sent)."""
    t = "/api/v1/tasks"
    created = await _checked(doc, alice, "post", t, 200, t, json={
        "kind": "echo", "items": [{"value": 1}, {"value": 2, "fail": "permanent"}]})
    task_id = created["data"]["taskId"]
    await alice.wait_finished(task_id)
    await _checked(doc, alice, "get", t + "/{task_id}", 200, f"{t}/{task_id}")
    await _checked(doc, alice, "get", t, 200, t)
    await _checked(doc, alice, "get", t + "/{task_id}/items", 200, f"{t}/{task_id}/items")
    await _checked(doc, alice, "post", t + "/{task_id}/retry-failed", 200,
                   f"{t}/{task_id}/retry-failed")
    await _checked(doc, alice, "get", "/api/v1/generate/status/{task_id}", 200,
                   f"/api/v1/generate/status/{task_id}")
    await _checked(doc, alice, "get", "/api/v1/generate/tasks", 200, "/api/v1/generate/tasks")
    paused = await _checked(doc, alice, "post", t, 200, t, json={
        "kind": "echo", "autoStart": False, "items": [{"value": 1}]})
    paused_id = paused["data"]["taskId"]
    await _checked(doc, alice, "post", t + "/{task_id}/cancel", 200, f"{t}/{paused_id}/cancel")
    error = await _checked(doc, alice, "post", t + "/{task_id}/pause", 400,
                           f"{t}/{paused_id}/pause")
    assert error["error"]["code"] == "INVALID_TASK_STATE"
    await _checked(doc, alice, "get", t + "/{task_id}", 404, f"{t}/nope")
    await _checked(doc, alice, "post", t, 400, t, json={"kind": "echo", "items": []})

    tpl = await _checked(doc, alice, "post", "/api/v2/templates", 201, "/api/v2/templates",
                         files={"file": ("q.docx", template("{{ name }}"))})
    template_id = tpl["data"]["templateId"]
    await _checked(doc, alice, "get", "/api/v2/templates", 200, "/api/v2/templates")
    await _checked(doc, alice, "get", "/api/v2/templates/{template_id}", 200,
                   f"/api/v2/templates/{template_id}")
    source = await _checked(doc, alice, "post", "/api/v2/data-sources", 201,
                            "/api/v2/data-sources",
                            files={"file": ("r.csv", b"name\nA\nB\n")})
    await _checked(doc, alice, "get", "/api/v2/data-sources", 200, "/api/v2/data-sources")
    b = "/api/v2/batch/tasks"
    batch = await _checked(doc, alice, "post", b, 200, b, json={
        "templateIds": [template_id], "outputFormat": "docx",
        "dataSourceId": source["data"]["dataSourceId"]})
    batch_id = batch["data"]["taskId"]
    await _checked(doc, alice, "get", b + "/{task_id}/progress", 200, f"{b}/{batch_id}/progress")
    await _checked(doc, alice, "post", b + "/{task_id}/cancel", 200, f"{b}/{batch_id}/cancel")
    await _checked(doc, alice, "get", b + "/{task_id}/progress", 200, f"{b}/{batch_id}/progress")
    await _checked(doc, alice, "delete", "/api/v2/templates/{template_id}", 200,
                   f"/api/v2/templates/{template_id}")

    await _checked(doc, alice, "get", "/servers", 200, "/servers")
    await _checked(doc, alice, "get", "/batch/tasks", 200, "/batch/tasks")
    await _checked(doc, alice, "put", "/files/{file_path}", 201, "/files/in/a.txt",
                   content=b"hello")
    await _checked(doc, alice, "get", "/files", 200, "/files")
    await _checked(doc, alice, "post", "/files/upload-url", 200, "/files/upload-url",
                   json={"path": "in/big.bin"})
    await _checked(doc, alice, "delete", "/files/{file_path}", 200, "/files/in/a.txt")

    k = "/api/v1/knowledge-bases"
    kb = await _checked(doc, alice, "post", k, 200, k, json={"name": "contract test"})
    kb_id = kb["data"]["id"]
    await _checked(doc, alice, "get", k, 200, k)
    await _checked(doc, alice, "get", k + "/{kb_id}", 200, f"{k}/{kb_id}")
    document = await _checked(doc, alice, "post", k + "/{kb_id}/documents", 200,
                              f"{k}/{kb_id}/documents",
                              files={"file": ("a.md", b"# Title\n\nSome text.\n")})
    document_id = document["data"]["id"]
    await _checked(doc, alice, "get", k + "/{kb_id}/documents", 200, f"{k}/{kb_id}/documents")
    await _checked(doc, alice, "get", k + "/{kb_id}/documents/{document_id}", 200,
                   f"{k}/{kb_id}/documents/{document_id}")
    sync = await _checked(doc, alice, "post", k + "/{kb_id}/sync", 200, f"{k}/{kb_id}/sync",
                          json={"task_type": "full_sync"})
    sync_id = sync["data"]["task_id"]
    await _checked(doc, alice, "get", k + "/{kb_id}/sync-tasks", 200, f"{k}/{kb_id}/sync-tasks")
    await _checked(doc, alice, "get", "/api/v1/sync-tasks/{task_id}", 200,
                   f"/api/v1/sync-tasks/{sync_id}")
    await _checked(doc, alice, "post", "/api/v1/sync-tasks/{task_id}/cancel", 200,
                   f"/api/v1/sync-tasks/{sync_id}/cancel")
    await _checked(doc, alice, "delete", k + "/{kb_id}", 200, f"{k}/{kb_id}")

    await _checked(doc, alice, "get", "/api/slide/batch/active-count", 200,
                   "/api/slide/batch/active-count")


async def test_real_answers_of_slides_servers_and_batch_control(doc: Doc, stack: Stack,
                                                               alice: Api) -> None:
    b = "/api/v2/batch/tasks"
    tpl = await alice.http.post("/api/v2/templates", files={"file": ("c.docx", template("x"))})
    rows = [{"n": i} for i in range(300)]
    batch = await _checked(doc, alice, "post", b, 200, b, json={
        "templateIds": [tpl.json()["data"]["templateId"]], "outputFormat": "docx",
        "data": rows, "options": {"batchSize": 1, "createZip": False}})
    batch_id = batch["data"]["taskId"]
    await _checked(doc, alice, "post", b + "/{task_id}/start", 200, f"{b}/{batch_id}/start")
    for action in ("pause", "resume"):  # 400 (already finished) is the envelope, also checked
        response = await alice.http.post(f"{b}/{batch_id}/{action}")
        validate_answer(doc, "post", b + "/{task_id}/" + action, response.status_code,
                        response.json())
    response = await alice.http.post(f"{b}/{batch_id}/cancel")
    validate_answer(doc, "post", b + "/{task_id}/cancel", response.status_code, response.json())

    root = await stack.user("acme", "contract-admin", admin=True)
    server = await _checked(doc, root, "post", "/servers/register", 200, "/servers/register",
                            json={"name": "contract-remote", "url": "http://127.0.0.2:9",
                                  "type": "remote"})
    assert server["status"] in ("offline", "error", "online")
    await _checked(doc, root, "get", "/servers/{name}", 200, "/servers/contract-remote")
    await _checked(doc, root, "patch", "/servers/{name}", 200, "/servers/contract-remote",
                   json={"enabled": False})
    await _checked(doc, alice, "post", "/servers/register", 403, "/servers/register",
                   json={"name": "nope", "url": "http://127.0.0.2:9"})
    refused = await root.http.post("/batch/check-server", json={
        "workflow_name": "docx-to-pdf", "target_folders": ["/in"],
        "selected_server": "contract-remote", "output_root": "/out"})
    validate_answer(doc, "post", "/batch/check-server", refused.status_code, refused.json())
    await _checked(doc, root, "delete", "/servers/{name}", 200, "/servers/contract-remote")

    handle = await start_slides(stack)
    try:
        s = "/api/slide/batch"
        deck = {"slides": [{"id": "c1", "type": "cover", "title": "契约"},
                           {"id": "c2", "type": "content", "title": "测试"}],
                "session_id": "contract-session"}
        done = await _checked(doc, alice, "post", s + "/generate", 200, s + "/generate",
                              json=deck, timeout=120)
        await _checked(doc, alice, "post", s + "/status", 200, s + "/status",
                       json={"batch_id": done["batch_id"]})
        fresh = [{**slide, "title": f"{slide['title']} {secrets.token_hex(4)}"}
                 for slide in deck["slides"]]  # not in the cache: still running on answering
        await _checked(doc, alice, "post", s + "/generate", 202, s + "/generate",
                       json={**deck, "slides": fresh, "wait": False})
        await _checked(doc, alice, "get", "/api/slide/sessions/{session_id}/logs", 200,
                       "/api/slide/sessions/contract-session/logs")
        await _checked(doc, alice, "post", s + "/status", 404, s + "/status",
                       json={"batch_id": "nope"})
    finally:
        await stop_slides(stack, handle)

    async with httpx.AsyncClient() as plain:
        health = await plain.get(f"{stack.url}/api/v2/health")
    validate_answer(doc, "get", "/api/v2/health", health.status_code, health.json())
    await _checked(doc, alice, "get", "/api/v2/health/instances", 200, "/api/v2/health/instances")


async def test_a_generated_client_creates_an_echo_task_and_reads_it(
    doc: Doc, alice: Api, tmp_path: Path
) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(doc), encoding="utf-8")
    python, said = await generate_client(document, tmp_path)
    # Every schema made it into the client: nothing skipped as unparseable or duplicated.
    assert "Cannot parse" not in said and "Unable to parse" not in said, said
    assert alice.token
    out = await run_with_client(python, tmp_path, GENERATED_CLIENT_SCRIPT, alice.base_url,
                                alice.token)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["completed"] == 2
    assert result["missing"] == "TASK_NOT_FOUND"


# Runs in the generator's virtualenv with the generated package on its path.
GENERATED_CLIENT_SCRIPT = """
import json, sys, time
from conveyor_client import AuthenticatedClient
from conveyor_client.api.tasks import api_v1_tasks_create, api_v1_tasks_task_id_status
from conveyor_client.models import CreateTaskRequest, ErrorEnvelope, TaskStatusResponse

client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2])
body = CreateTaskRequest.from_dict({"kind": "echo", "items": [{"value": 1}, {"value": 2}]})
created = api_v1_tasks_create.sync(client=client, body=body)
assert isinstance(created, TaskStatusResponse), created
task_id = created.data.task_id
deadline = time.monotonic() + 60
while True:
    status = api_v1_tasks_task_id_status.sync(client=client, task_id=task_id)
    assert isinstance(status, TaskStatusResponse), status
    if status.data.status.value in ("completed", "partial_success", "failed", "cancelled"):
        break
    assert time.monotonic() < deadline, status
    time.sleep(0.1)
missing = api_v1_tasks_task_id_status.sync(client=client, task_id="no-such-task")
assert isinstance(missing, ErrorEnvelope), missing
print(json.dumps({"status": status.data.status.value,
                  "completed": status.data.completed_items, "missing": missing.error.code}))
"""
