"""Seed 003 shows ids with a type prefix (`kb-…`, `doc-…`, `task-…`); the database keeps plain
UUIDs. Paths accept both forms."""

import uuid

KB, DOC, TASK = "kb", "doc", "task"


def public(prefix: str, raw: str) -> str:
    return f"{prefix}-{raw}"


def parse(prefix: str, value: str) -> str | None:
    """The UUID inside `kb-<uuid>` (or a bare UUID); None if it is neither."""
    raw = value.removeprefix(f"{prefix}-")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
