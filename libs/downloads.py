"""The headers a download of a stored file is served with (through the presigned URL's
`response-content-disposition` / `response-content-type`). Names and types of stored files
come from users: a name must not add parameters to the header (RFC 6266: an ASCII `filename`
fallback plus the UTF-8 name as an RFC 5987 `filename*`, both built here, never pasted), and a
type a browser would run (HTML, SVG, XML, scripts) is served as `application/octet-stream`."""

import unicodedata
from urllib.parse import quote

DEFAULT_NAME = "download"
OCTET_STREAM = "application/octet-stream"
# Types a browser shows without running anything in the download's origin.
SAFE_TYPES = frozenset({
    "application/pdf",
    "application/zip",
    "application/json",
    "text/plain",
    "text/csv",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
# RFC 5987 attr-char beyond letters and digits: everything else is percent-encoded.
_ATTR_CHARS = "!#$&+-.^_`|~"
# The ASCII fallback keeps a plain subset: no quote, backslash, `;`, `*`, `'`, `=` or `%`.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-()+,@[]")
# Control, format (bidi overrides: `gpj.exe` shown as `exe.jpg`), separator characters.
_DROPPED = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def sanitized(name: str) -> str:
    """The name a user may be offered: no path, no invisible or reordering characters, no
    leading dots or spaces; `download` when nothing is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in unicodedata.normalize("NFC", name)
                   if unicodedata.category(c) not in _DROPPED)
    kept = " ".join(kept.split()).lstrip(". ")
    return kept[:255] or DEFAULT_NAME


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c if c in _PLAIN else "_" for c in decomposed
                    if not unicodedata.combining(c))
    return plain.lstrip(". ") or DEFAULT_NAME


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="a_b.txt"; filename*=UTF-8''a%E2%80%9Cb.txt`."""
    name = sanitized(filename)
    return (f'{disposition}; filename="{_ascii_fallback(name)}"; '
            f"filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}")


def served_type(stored: str | None) -> str:
    """The Content-Type a stored file is downloaded with: its own when it is safe."""
    bare, _, params = (stored or "").lower().partition(";")
    bare = bare.strip()
    if bare not in SAFE_TYPES:
        return OCTET_STREAM
    utf8 = bare.startswith("text/") and "charset=utf-8" in params.replace(" ", "")
    return f"{bare}; charset=utf-8" if utf8 else bare
