"""Pure parts of crash hygiene: request fingerprints and dead-letter reasons."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.gateway.idempotency.middleware import fingerprint
from services.scheduler.dead_letters import dead_letter_reason


def _scope(body_type: str, path: str = "/api/v1/tasks", query: bytes = b"") -> Any:
    return {"method": "POST", "path": path, "query_string": query,
            "headers": [(b"content-type", body_type.encode())]}


def test_json_bodies_are_compared_as_json() -> None:
    a = fingerprint(_scope("application/json"), b'{"kind": "echo", "items": [1, 2]}')
    b = fingerprint(_scope("application/json"), b'{"items":[1,2],"kind":"echo"}')
    c = fingerprint(_scope("application/json"), b'{"items":[2,1],"kind":"echo"}')
    assert a == b != c


def test_a_multipart_body_is_compared_without_its_random_boundary() -> None:
    def form(boundary: str, content: bytes) -> tuple[Any, bytes]:
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"t.docx\"\r\n\r\n").encode()
        body = head + content + f"\r\n--{boundary}--\r\n".encode()
        return _scope(f"multipart/form-data; boundary={boundary}"), body

    assert fingerprint(*form("aaa111", b"same")) == fingerprint(*form("bbb222", b"same"))
    assert fingerprint(*form("aaa111", b"same")) != fingerprint(*form("aaa111", b"other"))


def test_path_and_query_are_part_of_the_request() -> None:
    body = b'{"task_type": "full_sync"}'
    assert fingerprint(_scope("application/json", "/kb/1/sync"), body) != fingerprint(
        _scope("application/json", "/kb/2/sync"), body)
    assert fingerprint(_scope("application/json", query=b"a=1"), body) != fingerprint(
        _scope("application/json", query=b"a=2"), body)


def test_dead_letter_reasons_read_x_death() -> None:
    def message(headers: dict[str, Any]) -> Any:
        return SimpleNamespace(headers=headers)

    limit = message({"x-death": [{"reason": "delivery_limit", "queue": "echo.items"}],
                     "x-delivery-count": 5})
    assert dead_letter_reason(limit) == (
        "work message dead-lettered: delivered more than 5 times without an answer (the worker "
        "crashed or stopped each time)")
    rejected = message({"x-first-death-reason": "rejected"})
    assert dead_letter_reason(rejected).endswith("refused by the worker as impossible to process")
    assert dead_letter_reason(message({})) == "work message dead-lettered: dead-lettered (unknown)"
