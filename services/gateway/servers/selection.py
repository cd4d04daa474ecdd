"""Which files a batch processes and where each result goes.

A file is selected when it lies under one of `target_folders`, in a folder below that target
whose name contains one of `folder_keywords` (case-insensitive; any folder when none are
given), and the workflow takes its extension. Its output goes to `output_root` at the same
path relative to the target's parent, with the workflow's extension: target `/in/2024`, file
`/in/2024/sales-q1/a.docx`, output root `/out` -> `/out/2024/sales-q1/a.pdf`."""

import posixpath
from collections import Counter
from dataclasses import dataclass

from libs.workflows import Workflow, output_name
from services.gateway.servers.paths import contains


class BadSelection(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SelectedFile:
    path: str  # normalized, relative to the tenant's root
    output: str
    folder: str


@dataclass(frozen=True, slots=True)
class Selection:
    files: list[SelectedFile]
    skipped: int  # in a selected folder, but not a type the workflow takes


def check_layout(targets: list[str], output_root: str) -> None:
    for target in targets:
        if contains(target, output_root) or contains(output_root, target):
            raise BadSelection("output_root", f"/{output_root} overlaps the target folder "
                                              f"/{target}: results would become inputs")
    names = Counter(posixpath.basename(target) for target in targets)
    twice = [name for name, count in names.items() if count > 1]
    if twice:
        raise BadSelection("target_folders", f"two target folders are named {twice[0]!r}: "
                                             "their results would collide under output_root")


def _in_keyword_folder(relative: str, keywords: list[str]) -> bool:
    if not keywords:
        return True
    folders = relative.split("/")[:-1]
    return any(k in folder.casefold() for folder in folders for k in keywords)


def select(listing: dict[str, list[str]], keywords: list[str], workflow: Workflow,
           output_root: str) -> Selection:
    """`listing`: each target folder -> the paths of every file below it."""
    wanted = [k.casefold() for k in keywords]
    chosen: dict[str, tuple[str, str]] = {}  # path -> (target, relative to the target's parent)
    skipped = 0
    for target, paths in listing.items():
        parent = posixpath.dirname(target)
        for path in paths:
            if path in chosen or not _in_keyword_folder(path[len(target) + 1:], wanted):
                continue
            if not workflow.accepts(path):
                skipped += 1
                continue
            chosen[path] = (target, path[len(parent) + 1:] if parent else path)
    outputs = {path: posixpath.join(output_root, posixpath.dirname(rel),
                                    output_name(posixpath.basename(rel), workflow))
               for path, (_, rel) in chosen.items()}
    # a.jpg and a.png in one folder would both become a.png: those keep their full name.
    clashes = {out for out, count in Counter(outputs.values()).items() if count > 1}
    for path, out in outputs.items():
        if out in clashes:
            outputs[path] = posixpath.join(output_root, chosen[path][1]) + workflow.output
    if len(set(outputs.values())) < len(outputs):
        raise BadSelection("target_folders", "two input files would write the same output")
    files = [SelectedFile(path, outputs[path], posixpath.dirname(path)) for path in chosen]
    return Selection(files=sorted(files, key=lambda f: f.path), skipped=skipped)
