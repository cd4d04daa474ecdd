"""Which renderer a template gets, decided once at upload and kept in its metadata.

`parts` (libs.docxfast.parts) unless the part-level renderer cannot prove it writes what
docxtpl writes: then `docxtpl`, the python-docx object model, with the reason. The proof is
two-fold: static checks while compiling (`Unsupported`), then one probe render of the template
with an empty row through both renderers, compared part by part after XML canonicalisation."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from docxtpl import DocxTemplate
from lxml import etree  # type: ignore[import-untyped]

from libs.docxfast.errors import TemplateRejected, Unsupported
from libs.docxfast.parts import compile_template, render_row
from libs.templating import template_environment

PARTS, DOCXTPL = "parts", "docxtpl"
RENDERERS = (PARTS, DOCXTPL)
# Placeholders docxtpl fills with python-docx objects (RichText runs, sub-documents): their
# values are objects, and only docxtpl turns them into XML.
_OBJECT_MODEL_TAGS = ("{{r ", "{%r ", "{{p ")


@dataclass(frozen=True, slots=True)
class RendererChoice:
    renderer: str
    reason: str | None = None


def choose_renderer(source: bytes) -> RendererChoice:
    """`source` has already been checked as a safe, readable DOCX (uploads.template_fields)."""
    env = template_environment()
    try:
        compiled = compile_template(source, env)
    except Unsupported as exc:
        return RendererChoice(DOCXTPL, str(exc))
    except TemplateRejected as exc:
        return RendererChoice(DOCXTPL, str(exc))
    if any(tag in _all_text(source) for tag in _OBJECT_MODEL_TAGS):
        return RendererChoice(DOCXTPL, "uses RichText or sub-document placeholders")
    mismatch = _probe(compiled, source)
    if mismatch:
        return RendererChoice(DOCXTPL, mismatch)
    return RendererChoice(PARTS)


def _all_text(source: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist() if name.endswith(".xml"))


def _probe(compiled: Any, source: bytes) -> str | None:
    """Renders an empty row through both; a difference (or only one of them failing) means
    the part-level renderer is not trusted with this template. Both failing proves nothing
    either way (an empty row may not suit the template) and leaves the static checks."""
    fast: bytes | None = None
    slow: bytes | None = None
    try:
        fast = render_row(compiled, {})
    except Exception:
        fast = None
    try:
        document = DocxTemplate(io.BytesIO(source))
        document.render({}, jinja_env=template_environment(), autoescape=True)
        out = io.BytesIO()
        document.save(out)
        slow = out.getvalue()
    except Exception:
        slow = None
    if fast is None and slow is None:
        return None
    if fast is None or slow is None:
        return "probe render: only one renderer succeeded"
    different = different_parts(fast, slow)
    return f"probe render differs in {different[0]}" if different else None


def different_parts(left: bytes, right: bytes) -> list[str]:
    """Entries whose content differs between two packages: XML after canonicalisation,
    [Content_Types].xml as the content type of each part, anything else byte for byte."""
    with zipfile.ZipFile(io.BytesIO(left)) as a, zipfile.ZipFile(io.BytesIO(right)) as b:
        names = set(a.namelist()) | set(b.namelist())
        if set(a.namelist()) != set(b.namelist()):
            return sorted(set(a.namelist()) ^ set(b.namelist()))
        found = []
        for name in sorted(names):
            if not _same(name, a.read(name), b.read(name), names):
                found.append(name)
        return found


def _same(name: str, left: bytes, right: bytes, names: set[str]) -> bool:
    if left == right:
        return True
    if name == "[Content_Types].xml":
        return _content_types(left, names) == _content_types(right, names)
    if name.endswith((".xml", ".rels")):
        return canonical(left) == canonical(right)
    return False


def canonical(xml: bytes) -> str:
    return str(etree.canonicalize(xml_data=xml.decode("utf-8").split("?>", 1)[-1]
                              if xml.lstrip().startswith(b"<?xml") else xml.decode("utf-8")))


def _content_types(xml: bytes, names: set[str]) -> dict[str, str]:
    root = etree.fromstring(xml)
    defaults = {el.get("Extension", "").lower(): el.get("ContentType") for el in root
                if el.tag.endswith("Default")}
    overrides = {el.get("PartName", "").lstrip("/"): el.get("ContentType") for el in root
                 if el.tag.endswith("Override")}
    return {name: overrides.get(name) or defaults.get(name.rsplit(".", 1)[-1].lower(), "")
            for name in names}
