"""Where a batch's documents live in the bucket and what they are called in its ZIP."""

import re

from libs.storage import task_prefix

_UNSAFE = re.compile(r"[^\w\-. ]+")

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def safe_name(name: str, fallback: str) -> str:
    """A file or folder name that can't escape its folder: no separators, no `..`, no
    leading dots, bounded length."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")[:80]
    return cleaned or fallback


def document_key(task_id: str, template_id: str, row_index: int, fmt: str) -> str:
    return f"{task_prefix(task_id)}docs/{safe_name(template_id, 'template')}/{row_index:05d}.{fmt}"


def zip_key(task_id: str) -> str:
    return f"{task_prefix(task_id)}batch_{task_id}.zip"


def zip_entry(template_name: str, template_id: str, row_index: int, fmt: str) -> str:
    folder = safe_name(template_name, safe_name(template_id, "template"))
    return f"{folder}/{row_index + 1:05d}.{fmt}"
