"""The OpenAPI document says what the server does: 405 and OPTIONS name the allowed methods,
closed bodies say `additionalProperties: false`, list items keep their limits, the SSE stream
and the JSON-lines logs are documented, and a stored file's path is refused exactly when the
documented pattern does not admit it."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from tests.e2e.conftest import Api, Stack


async def _document(stack: Stack) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=stack.url, trust_env=False) as anonymous:
        return dict((await anonymous.get("/openapi.json")).json())


async def test_405_and_options_name_every_method_of_the_path(stack: Stack) -> None:
    api = await stack.user("i21-contract", "reader")
    refused = await api.http.put("/api/v1/knowledge-bases")
    assert refused.status_code == 405
    assert set(refused.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    options = await api.http.options("/api/v1/knowledge-bases")
    assert set(options.headers["allow"].replace(" ", "").split(",")) == {
        "GET", "POST", "OPTIONS"}


async def test_the_document_states_the_limits_and_stream_shapes(stack: Stack) -> None:
    doc = await _document(stack)
    schemas = doc["components"]["schemas"]  # type: ignore[index]
    assert schemas["UpdateServerRequest"]["additionalProperties"] is False
    assert schemas["BatchRequest"]["properties"]["target_folders"]["items"]["minLength"] == 1
    paths = doc["paths"]  # type: ignore[index]
    sse = paths["/api/v1/tasks/{task_id}/events"]["get"]["responses"]["200"]["content"]
    data = sse["text/event-stream"]["schema"]["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"] == {"$ref": "#/components/schemas/TaskEventMessage"}
    logs = paths["/api/slide/sessions/{session_id}/logs"]["get"]["responses"]["200"]["content"]
    assert set(logs) == {"application/json", "application/x-ndjson"}


async def test_a_file_path_is_refused_exactly_when_the_pattern_refuses_it(
        stack: Stack) -> None:
    api: Api = await stack.user("i21-contract", "writer")
    doc = await _document(stack)
    put = doc["paths"]["/files/{file_path}"]["put"]  # type: ignore[index]
    schema = next(p for p in put["parameters"] if p["name"] == "file_path")["schema"]
    pattern = re.compile(schema["pattern"])
    names = ["a/b.txt", "Æ^", "合同/二〇二六.docx", "..a", "a//b", "a/", "a/../b", ".",
             "x" * 256, "a\\b", "a/\x01"]
    for name in names:
        admitted = bool(pattern.fullmatch(name)) and len(name) <= schema["maxLength"]
        # Dot names percent-encoded: the client would resolve them away itself.
        sent = "/".join("%2E" * len(part) if part in (".", "..") else quote(part)
                        for part in name.split("/"))
        answer = await api.http.put(f"/files/{sent}", content=b"x")
        assert (answer.status_code == 201) == admitted, (name, answer.status_code, answer.text)
        if not admitted:
            assert answer.status_code in (400, 404), (name, answer.text)
