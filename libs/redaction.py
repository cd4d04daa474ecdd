"""Secrets never reach a log line: a structlog processor that scrubs every value of an event
(messages, bound context, formatted tracebacks) before it is rendered.

What counts as a secret: bearer tokens and our API tokens (`cvr_...`), `Authorization`/`Cookie`
header values, the signature and credential of presigned S3 URLs, the password in a URL's
userinfo (amqp://user:pw@host, postgresql://user:pw@host) and `password=`/`token=`-style pairs.
Fields whose *name* says secret are replaced whole.
"""

import functools
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

_SECRET_KEYS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "token", "access_token",
    "refresh_token", "password", "passwd", "secret", "secret_key", "api_key", "apikey",
    "x-api-key", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
})
_SECRET_SUFFIXES = ("_token", "_password", "_secret", "_secret_key", "_api_key")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer xyz`, `('authorization', 'Basic xyz')`
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{REDACTED}"),
    # our own API tokens, wherever they appear (repr of bytes, a query string, JSON)
    (re.compile(r"cvr_[A-Za-z0-9_-]{8,}"), f"cvr_{REDACTED}"),
    # presigned URL query parameters (AWS SigV4 and V2)
    (re.compile(r"(?i)\b(X-Amz-(?:Signature|Credential|Security-Token)|Signature|AWSAccessKeyId)"
                r"(=|%3D)[^&\s\"'<>]+"), rf"\1\2{REDACTED}"),
    # scheme://user:password@host
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s/\"']+@"), rf"\1{REDACTED}@"),
    # password=..., "token": "...", access_token=..., api_key: ...
    (re.compile(r"(?i)\b((?:[a-z_-]*_)?(?:password|passwd|secret|token|api_?key)[\"']?\s*[=:]\s*"
                r"[\"']?)(?!\[redacted\])[^&\s\"',;}<>]+"), rf"\1{REDACTED}"),
)


# Every pattern above needs one of these words. Most logged strings (event names, routes,
# request ids, timestamps) hold none, and one search costs a tenth of the five substitutions:
# the gateway writes an access line per request, so this is on its hot path. ASCII text is
# lowercased and searched case-sensitively (5x faster than IGNORECASE); other text keeps
# IGNORECASE, whose Unicode equivalences (e.g. the long s) `lower()` does not make.
_WORDS = r"bearer|basic|cvr_|x-amz|signature|awsaccesskeyid|://|passw|secret|token|api_?key"
_WORD = re.compile(_WORDS)
_WORD_ANY_CASE = re.compile(_WORDS, re.IGNORECASE)
# Values that can hold no text, left alone without walking the checks below.
_PLAIN = frozenset({int, float, bool, type(None)})


def redact_text(text: str) -> str:
    if (_WORD.search(text.lower()) if text.isascii() else _WORD_ANY_CASE.search(text)) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=4096)  # log keys come from the code: a small, fixed set
def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    name = key.lower()
    return name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of `value` with secrets replaced; containers are walked a few levels deep and
    anything else is left alone (its repr, if rendered, goes through the text patterns)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {k: (REDACTED if _is_secret_key(k) else redact(v, depth + 1))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        if (len(value) == 2 and _is_secret_key(value[0] if not isinstance(value[0], bytes)
                                               else value[0].decode("latin-1"))):
            return (value[0], REDACTED)  # a (header name, value) pair
        return type(value)(redact(v, depth + 1) for v in value) if isinstance(value, list) \
            else tuple(redact(v, depth + 1) for v in value)
    if isinstance(value, bytes):
        return redact_text(value.decode("latin-1"))
    return value


def redact_event(_logger: Any, _method: str, event: Any) -> Any:
    """structlog processor; runs last before rendering, after tracebacks are formatted."""
    return {key: (REDACTED if _is_secret_key(key) else redact(value))
            for key, value in event.items()}
