"""What a service process left behind, read from /proc: its descendants, and every process of
this test run (marked by the run's own database URL in its environment)."""

from __future__ import annotations

import contextlib
from pathlib import Path


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, None once it is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return fields[0], int(fields[1]), int(fields[2])
    return None


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not reaped, counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for child in _pids():
        if (stat := _stat(child)) is not None:
            children.setdefault(stat[1], []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and alive(child):
                found.add(child)
                todo.append(child)
    return found


def group_members(pgid: int, marker: str) -> list[int]:
    """Live processes of group `pgid` whose environment contains `marker`: a leader that died
    long ago may have had its pid (and so its group id) reused by someone else's process."""
    members = []
    for pid in _pids():
        stat = _stat(pid)
        if stat is None or stat[2] != pgid or stat[0] == "Z":
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                members.append(pid)
    return members
