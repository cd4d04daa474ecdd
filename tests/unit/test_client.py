"""The client library and the CLI's config file, without a gateway (httpx.MockTransport)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from libs.client import ApiError, Client, Conflict, NotFound, TransportError
from libs.client.cli import config
from libs.client.errors import error_from_response
from libs.client.tasks import AmbiguousId

ENVELOPE = {"success": False, "code": 404, "message": "task x does not exist", "data": None,
            "detail": "task x does not exist",
            "error": {"code": "TASK_NOT_FOUND", "message": "task x does not exist",
                      "details": None, "requestId": "req_1", "timestamp": "2026-01-01T00:00:00Z"},
            "timestamp": "2026-01-01T00:00:00Z"}


def test_an_error_answer_becomes_a_typed_exception_with_its_envelope() -> None:
    error = error_from_response(404, json.dumps(ENVELOPE).encode())
    assert isinstance(error, NotFound) and error.code == "TASK_NOT_FOUND"
    assert error.request_id == "req_1" and str(error) == "404 TASK_NOT_FOUND: task x does not exist"
    assert isinstance(error_from_response(409, json.dumps(ENVELOPE).encode()), Conflict)
    proxy = error_from_response(502, b"<html>Bad Gateway</html>")
    assert type(proxy) is ApiError and proxy.code == "HTTP_502" and "Bad Gateway" in proxy.message


def test_the_token_goes_in_one_header_and_answers_decode_to_structs() -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/tasks/t1":
            return httpx.Response(200, json={"code": 200, "message": "成功", "timestamp": "x",
                                             "data": {"taskId": "t1", "status": "running",
                                                      "totalItems": 3, "newField": 1}})
        if request.url.path == "/api/v1/tasks/odd":
            return httpx.Response(200, json={"data": {"status": 3}})
        return httpx.Response(404, json=ENVELOPE)

    with Client("http://gw", "secret", transport=httpx.MockTransport(gateway)) as client:
        task = client.tasks.get("t1")
        assert task.task_id == "t1" and task.total_items == 3 and not task.finished
        with pytest.raises(NotFound):
            client.tasks.get("nope")
        with pytest.raises(TransportError, match="unexpected answer"):
            client.tasks.get("odd")
    assert {r.headers["authorization"] for r in seen} == {"Bearer secret"}


def test_login_file_is_private_and_replaced_atomically(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CONVEYOR_URL", raising=False)
    monkeypatch.delenv("CONVEYOR_TOKEN", raising=False)
    path = tmp_path / "conveyor" / "config.json"
    path.parent.mkdir(mode=0o755)
    path.write_text("{}")
    path.chmod(0o644)  # a file left readable by an older tool
    assert config.save(config.Profile(url="http://gw", token="t0ken")) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.load() == config.Profile(url="http://gw", token="t0ken")
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left

    monkeypatch.setenv("CONVEYOR_TOKEN", "from-env")
    assert config.resolve(None, None) == config.Profile(url="http://gw", token="from-env")
    assert config.resolve("http://other", "opt").token == "opt"


def test_a_broken_config_file_says_what_to_do(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "conveyor").mkdir()
    (tmp_path / "conveyor" / "config.json").write_text("not json")
    with pytest.raises(SystemExit, match="conveyor login"):
        config.load()


def test_a_short_id_resolves_to_the_one_task_it_starts() -> None:
    ids = ["8824abc4-0000-4000-8000-000000000001", "8824abd0-0000-4000-8000-000000000002"]
    searched: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        search = request.url.params["q"]
        searched.append(search)
        found = [{"taskId": i, "status": "running"} for i in ids if i.startswith(search)]
        return httpx.Response(200, json={"code": 200, "message": "成功", "timestamp": "x",
                                         "data": {"total": len(found), "pageNum": 1,
                                                  "pageSize": 6, "pages": 1, "tasks": found}})

    with Client("http://gw", "secret", transport=httpx.MockTransport(gateway)) as client:
        assert client.tasks.resolve("8824ABC4") == ids[0]
        assert client.tasks.resolve(ids[1]) == ids[1]  # a full id: no search
        assert client.tasks.resolve("not-an-id") == "not-an-id"  # the API will say 404
        assert client.tasks.resolve("ffff") == "ffff"
        with pytest.raises(AmbiguousId, match="8824ab matches several tasks"):
            client.tasks.resolve("8824ab")
    assert searched == ["8824abc4", "ffff", "8824ab"]
