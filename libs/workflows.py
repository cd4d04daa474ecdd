"""Workflows: named jobs a server runs over files, one output file per input file.

A server declares the workflows it runs (a local instance in its heartbeat's `workflows`, a
remote one in its `/health` answer) in one shape, `Workflow`, so the gateway can select the
input files of a batch and name their outputs whatever runs them. The built-in ones are run by
docrender; an operator may publish a built-in under another name (`workflow1=docx-to-pdf`).
"""

from typing import Annotated, Any

import msgspec
from msgspec import Meta

Extension = Annotated[str, Meta(pattern=r"^\.[a-z0-9]{1,10}$")]


class Workflow(msgspec.Struct, frozen=True, kw_only=True):
    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
    inputs: tuple[Extension, ...]  # lower-case extensions of the files it takes
    output: Extension  # extension of the file it writes for each input
    content_type: str = "application/octet-stream"
    description: str = ""
    runs: str = ""  # the built-in that implements it, when the name is an alias

    @property
    def implementation(self) -> str:
        return self.runs or self.name

    def accepts(self, filename: str) -> bool:
        return filename.lower().endswith(self.inputs)


DOCX_TO_PDF = Workflow(
    name="docx-to-pdf", inputs=(".docx",), output=".pdf", content_type="application/pdf",
    description="Word documents to PDF (LibreOffice)",
)
IMAGE_THUMBNAIL = Workflow(
    name="image-thumbnail",
    inputs=(".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"),
    output=".png", content_type="image/png",
    description="Images scaled to fit options.max_size (default 512 px), as PNG",
)
BUILT_IN: dict[str, Workflow] = {w.name: w for w in (DOCX_TO_PDF, IMAGE_THUMBNAIL)}


class UnknownWorkflow(ValueError):
    pass


def published(spec: str, available: dict[str, Workflow]) -> list[Workflow]:
    """Parse an operator's list, e.g. `docx-to-pdf,workflow1=docx-to-pdf`: each entry is a
    built-in by name or an alias `name=built-in`."""
    chosen: list[Workflow] = []
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        alias, _, target = entry.partition("=")
        target = target or alias
        if target not in available:
            raise UnknownWorkflow(f"{target!r} is not one of {sorted(available)}")
        base = available[target]
        chosen.append(base if alias == target else msgspec.structs.replace(
            base, name=alias, runs=base.name))
    return chosen


def declared(capabilities: dict[str, Any]) -> dict[str, Workflow]:
    """The workflows a server's capabilities declare; malformed entries are ignored (a remote
    server's answer is not trusted to be well-formed)."""
    found: dict[str, Workflow] = {}
    for entry in capabilities.get("workflows") or []:
        try:
            workflow = msgspec.convert(entry, Workflow)
        except msgspec.ValidationError:
            continue
        found[workflow.name] = workflow
    return found


def as_capability(workflows: list[Workflow]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(w) for w in workflows]


def output_name(filename: str, workflow: Workflow) -> str:
    """`a.docx` -> `a.pdf`: the input's name with the workflow's extension."""
    stem, dot, _ = filename.rpartition(".")
    return f"{stem if dot else filename}{workflow.output}"
