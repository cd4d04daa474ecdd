"""The generated project's files, keyed by paths that are safe in a ZIP: relative, made of plain
name parts, without `..`, and unique (case-insensitively, as some file systems are). Every
path is checked here however it was built, and sizes are capped."""

import re

_PART = re.compile(r"^\.?[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")  # `.gitignore`, never `..`
MAX_FILES = 2000
MAX_PATH_CHARS = 300


class UnsafePath(ValueError):
    pass


def check_path(path: str) -> str:
    if not path or len(path) > MAX_PATH_CHARS or path.startswith("/") or "\\" in path:
        raise UnsafePath(f"unsafe path {path!r}")
    for part in path.split("/"):
        if part in ("", ".", "..") or not _PART.match(part):
            raise UnsafePath(f"unsafe path {path!r}")
    return path


class ProjectFiles:
    def __init__(self, *, max_file_bytes: int, max_total_bytes: int) -> None:
        self.files: dict[str, str] = {}
        self._folded: set[str] = set()
        self._total = 0
        self._max_file = max_file_bytes
        self._max_total = max_total_bytes

    def add(self, path: str, content: str) -> None:
        check_path(path)
        if path.lower() in self._folded:
            raise UnsafePath(f"duplicate path {path!r}")
        if len(self.files) >= MAX_FILES:
            raise UnsafePath(f"more than {MAX_FILES} files")
        size = len(content.encode())
        if size > self._max_file:
            raise UnsafePath(f"{path} is {size} bytes, over the {self._max_file}-byte cap")
        if self._total + size > self._max_total:
            raise UnsafePath(f"the project is over the {self._max_total}-byte cap")
        self._folded.add(path.lower())
        self._total += size
        self.files[path] = content
