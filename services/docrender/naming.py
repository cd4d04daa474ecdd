"""Where a batch's documents live in the bucket and what they are called in its ZIP."""

import re
import uuid
from collections.abc import Mapping

from libs.storage import task_prefix
from proto.documents import TemplateRef

_UNSAFE = re.compile(r"[^\w\-. ]+")
MANIFEST = "manifest.json"


def safe_name(name: str, fallback: str) -> str:
    """A file or folder name that can't escape its folder: no separators, no `..`, no
    leading dots, bounded length."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")[:80]
    return cleaned or fallback


def pack_key(task_id: str) -> str:
    """A new object holding several rendered documents back to back (one per render flush;
    a rerun writes a new one, and the item's result names the one it reported)."""
    return f"{task_prefix(task_id)}packs/{uuid.uuid4().hex}.bin"


def zip_key(task_id: str) -> str:
    return f"{task_prefix(task_id)}batch_{task_id}.zip"


def zip_folders(templates: Mapping[str, TemplateRef]) -> dict[str, str]:
    """One ZIP folder per template of a task, unique whatever the templates are called: two
    templates with the same name, or names that sanitise alike (`a/b`, `a?b`), get the template
    id appended (then a counter). Compared case-insensitively, as the file systems archives are
    unpacked on do; the manifest's name is reserved. A pure function of the task's params, so
    every render process and the finalize step agree."""
    taken = {MANIFEST}
    folders = {}
    for template_id, template in templates.items():
        base = safe_name(template.name, safe_name(template_id, "template"))
        candidates = [base, f"{base}_{safe_name(template_id, 'template')}"]
        folder = next((c for c in candidates if c.lower() not in taken), None)
        counter = 2
        while folder is None:
            if f"{base}_{counter}".lower() not in taken:
                folder = f"{base}_{counter}"
            counter += 1
        taken.add(folder.lower())
        folders[template_id] = folder
    return folders


def zip_entry(folder: str, row_index: int, fmt: str) -> str:
    return f"{folder}/{row_index + 1:05d}.{fmt}"
