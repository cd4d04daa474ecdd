"""What any text from outside must satisfy before it is stored: the one set of input checks.

PostgreSQL cannot store U+0000 in `text`/`jsonb`, and an unpaired UTF-16 surrogate cannot be
encoded as UTF-8 at all, so either one reaching the database is an error deep in a handler;
deeply nested JSON exhausts the recursion of every decoder and encoder on its way. The gateway
refuses such input at its boundary (services/gateway/boundary.py, 400 naming the field), the
data-source parsers refuse it per cell, and message consumers scrub it (a worker's error text
may quote a hostile template) so it can neither fail a transaction nor loop a message.
"""

import json
import re
from typing import Any

import msgspec

MAX_JSON_DEPTH = 32
REPLACEMENT = "\ufffd"

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
# Inside JSON text a NUL or a surrogate can only appear escaped (raw NUL and raw surrogates are
# invalid JSON / UTF-8), so a body without these escapes needs no walk at all.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")
# A number of 19+ digits may be outside PostgreSQL's bigint (and msgspec's int64 fields).
_LONG_NUMBER = re.compile(rb"[0-9]{19,}")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: 2x faster
_NOT_BRACKET = bytes(c for c in range(256) if chr(c) not in "[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


class InputRejected(ValueError):
    """A value from outside that we refuse; `field` names where it was (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored, or None."""
    match = _BAD_CHAR.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains a NUL character (U+0000)"
    return "contains an unpaired UTF-16 surrogate"


def check_text(field: str, value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise InputRejected(field, problem)
    return value


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`, without parsing it (a parser
    is what deep nesting breaks). Strings are blanked, then each pass removes the innermost
    empty pairs; the number of passes is the depth. Every step is a C-speed bytes operation."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    for _ in range(limit):
        brackets = _EMPTY_PAIR.sub(b"", brackets)
        if not brackets:
            return False
    return True


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_tree(value: Any, path: str = "", depth: int = 0,
               max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise InputRejected naming the first string (key or value) that cannot be stored, integer
    outside int64, or container deeper than `max_depth`, in decoded JSON."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InputRejected(path or "body", problem)
        return
    if isinstance(value, int) and not -2**63 <= value < 2**63:
        raise InputRejected(path or "body", "integer out of range")
    if isinstance(value, dict | list) and depth >= max_depth:
        raise InputRejected(path or "body", f"nested deeper than {max_depth} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            problem = text_problem(key_text)
            if problem:
                raise InputRejected(_join(path, repr(key_text)[1:-1]), f"field name {problem}")
            check_tree(item, _join(path, key_text), depth + 1, max_depth)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_tree(item, _join(path, index), depth + 1, max_depth)


def check_json(raw: bytes, field: str = "body", max_depth: int = MAX_JSON_DEPTH) -> None:
    """The checks for JSON text from a client, cheapest first; parsing errors are left to the
    real parser, which reports them."""
    if json_depth_exceeds(raw, max_depth):
        raise InputRejected(field, f"JSON nested deeper than {max_depth} levels")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected(field, f"not valid UTF-8 (byte {exc.start})") from None
    if _SUSPECT_ESCAPE.search(raw) is None and _LONG_NUMBER.search(raw) is None:
        return
    try:
        tree = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        try:  # msgspec refuses a lone surrogate escape; the stdlib parser keeps it to name it
            tree = json.loads(raw)
        except ValueError:
            return  # not JSON: the real parser answers that
    prefix = "" if field == "body" else field
    check_tree(tree, prefix, 0, max_depth)


def scrub(value: Any) -> Any:
    """A copy of decoded JSON with NUL and lone surrogates replaced by U+FFFD."""
    if isinstance(value, str):
        return _BAD_CHAR.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def scrub_json(raw: bytes) -> bytes:
    """A message body with every string made storable (consumers: there is nobody to answer
    400 to, and refusing a worker's result would lose it). Unchanged unless it needs to be."""
    if _SUSPECT_ESCAPE.search(raw) is None:
        return raw
    try:
        return msgspec.json.encode(scrub(msgspec.json.decode(raw)))
    except msgspec.DecodeError:
        return raw  # the typed decoder reports it
