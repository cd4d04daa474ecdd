"""No secret reaches a log line: tracebacks carry no locals and every value is scrubbed."""

import io
import json
import logging

import pytest

from libs.logging import configure_logging, get_logger
from libs.redaction import redact_text

TOKEN = "cvr_" + "s3cr3t" * 6


@pytest.mark.parametrize(("text", "secret"), [
    (f"Authorization: Bearer {TOKEN}", TOKEN),
    ("GET /v2/stream?token=opaque-token-123", "opaque-token-123"),
    ("https://s3/b/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef", "deadbeef"),
    ("https://s3/b/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef", "AKIA"),
    ("amqp://guest:hunter2@127.0.0.1:5672/", "hunter2"),
    ("postgresql+asyncpg://app:pa55word@db/conveyor", "pa55word"),
    ('{"password": "hunter2"}', "hunter2"),
    ("headers=[(b'authorization', b'Basic dXNlcjpwdw==')]", "dXNlcjpwdw=="),
])
def test_each_kind_of_secret_is_redacted(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


@pytest.mark.parametrize("text", [
    f"AUTHORIZATION: BEARER {TOKEN[4:]}",  # upper case, ASCII: the lowercased pre-check
    "amqp://guest:hunter2@host/ and ünïcode",  # non-ASCII: the case-insensitive pre-check
    "PAſSWORD=hunter2",  # the long s matches `s` under IGNORECASE; lower() keeps it
    "API_KEY: hunter2",
])
def test_the_cheap_pre_check_lets_every_secret_through_to_the_patterns(text: str) -> None:
    assert "hunter2" not in redact_text(text) and TOKEN[4:] not in redact_text(text)


def test_ordinary_text_is_left_alone() -> None:
    text = "task tsk_1 finished: 3 items, max_tokens=512, tokens used 40"
    assert redact_text(text) == text


@pytest.mark.parametrize("json_logs", [True, False])
def test_a_logged_traceback_holds_no_locals_and_no_secret(json_logs: bool) -> None:
    stream = io.StringIO()
    configure_logging("test", json_logs=json_logs)
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]

    def handler(headers: dict[str, str]) -> None:
        raise RuntimeError(f"upstream refused {headers['authorization']}")

    try:
        handler({"authorization": f"Bearer {TOKEN}"})
    except RuntimeError:
        get_logger("t").exception("request.failed", authorization=f"Bearer {TOKEN}",
                                  url=f"http://h/x?token={TOKEN}")
    logging.getLogger("uvicorn.error").error("ws %s", f"/v2/stream?token={TOKEN}")
    output = stream.getvalue()
    assert "RuntimeError: upstream refused Bearer [redacted]" in output
    assert TOKEN not in output and "s3cr3t" not in output
    if json_logs:
        first = json.loads(output.splitlines()[0])
        assert first["authorization"] == "[redacted]" and "Traceback" in first["exception"]


def test_json_lines_of_plain_values_and_of_other_objects() -> None:
    """msgspec renders lines of plain values; anything else keeps json.dumps and structlog's
    fallback (its repr), so objects never render by msgspec's own rules."""
    stream = io.StringIO()
    configure_logging("test", json_logs=True)
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    log = get_logger("t")
    log.info("plain", route="/api/v1/tasks/{task_id:str}", status=200, ms=1.5, none=None)
    log.info("objects", at=b"\x00", items={"a": 1}, lone="\udc80")
    plain, objects = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (plain["event"], plain["route"], plain["status"], plain["ms"], plain["none"]) == (
        "plain", "/api/v1/tasks/{task_id:str}", 200, 1.5, None)
    assert (objects["items"], objects["lone"]) == ({"a": 1}, "\udc80")
