"""Users' files: folders are prefixes under the tenant's own root in the bucket,
`files/<tenant id>/<path>`. Paths are given as `/a/b/c.docx` and kept as `a/b/c.docx`."""

import re

MAX_PATH = 1024
MAX_SEGMENT = 255


# A stored file's path as a route names it (`PUT /files/<this>`): '/'-separated names, none
# `.` or `..`, of allowed characters. The OpenAPI document states this very pattern. Repeated,
# leading and trailing slashes are admitted: the router collapses them before anyone sees them.
_CHAR = r"[^/\\\x00-\x1f\x7f]"
_NAME = rf"(?:[^/\\\x00-\x1f\x7f.]{_CHAR}{{0,{MAX_SEGMENT - 1}}}" \
        rf"|\.{{1,2}}[^/\\\x00-\x1f\x7f.]{_CHAR}{{0,{MAX_SEGMENT - 3}}})"
FILE_PATH_PATTERN = rf"^/*{_NAME}(?:/+{_NAME})*/*$"
_FILE_PATH = re.compile(FILE_PATH_PATTERN)


class BadPath(ValueError):
    pass


def route_file_path(raw: str) -> str:
    """A route's file path, refused unless the documented pattern admits it, normalized."""
    bare = raw.lstrip("/")
    if len(bare) > MAX_PATH or not _FILE_PATH.fullmatch(bare):
        normalize(raw)  # names what is wrong when it can
        raise BadPath("'/'-separated names of 1-255 characters, none '.' or '..'")
    return normalize(bare)


def tenant_root(tenant_id: str) -> str:
    return f"files/{tenant_id}/"


def normalize(path: str) -> str:
    """`/a//b/` -> `a/b`. No `.`/`..` segments, backslashes or control characters, so a path
    can never leave the tenant's root."""
    if len(path) > MAX_PATH:
        raise BadPath(f"longer than {MAX_PATH} characters")
    if "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise BadPath("backslashes and control characters are not allowed")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise BadPath("'.' and '..' are not allowed")
    if any(len(part) > MAX_SEGMENT for part in parts):
        raise BadPath(f"a name is longer than {MAX_SEGMENT} characters")
    if not parts:
        raise BadPath("empty path")
    return "/".join(parts)


def shown(path: str) -> str:
    return "/" + path


def contains(folder: str, path: str) -> bool:
    """`path` is `folder` or below it."""
    return path == folder or path.startswith(folder + "/")
