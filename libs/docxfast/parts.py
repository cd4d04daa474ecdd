"""The part-level DOCX renderer: docxtpl's output, without python-docx per row.

docxtpl opens the whole package with python-docx, renders the parts holding Jinja and writes
the whole package back, for every row. Here that work is split by what changes per row:

- once per template (`compile_template`): read the package's entries as compressed bytes,
  run docxtpl's own XML preprocessing (`patch_xml`) on the body, the headers and footers and
  the footnotes, and compile each in the sandboxed environment; compute once what docxtpl
  writes for parts that hold no Jinja (core properties are rewritten by docxtpl even then);
- per row (`render_row`): render just those parts, with docxtpl's own post-processing
  (listing resolution, table fixing, drawing ids), serialise them the way python-docx would,
  and emit the package with every other entry's compressed bytes copied as they are.

Anything this module cannot prove it renders as docxtpl does raises `Unsupported`, and the
template is rendered by docxtpl instead (see `choice.py`)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from jinja2 import Environment, Template
from jinja2.exceptions import SecurityError, TemplateError
from lxml import etree  # type: ignore[import-untyped]

from libs.docxfast.errors import EXPRESSION_ERRORS, TemplateRejected, Unsupported, expression_error
from libs.docxfast.zipraw import BadZip, Prefix, RawEntry, read_entries

FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
# The core properties docxtpl renders through Jinja on every row (DocxTemplate.render_properties).
RENDERED_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_JINJA_MARKERS = ("{{", "{%", "{#")
_W_BODY = f"{{{nsmap['w']}}}body"
_FIRST_DRAWING_ID = 1000  # DocxTemplate.render_init: docx_ids_index

# docxtpl's XML functions, used as they are: none of them reads the instance's state.
_DOCXTPL = DocxTemplate.__new__(DocxTemplate)


def has_jinja(xml: str) -> bool:
    return any(marker in xml for marker in _JINJA_MARKERS)


def _before_jinja(patched: str) -> str:
    """DocxTemplate.render_xml_part, before Jinja: one paragraph per line (error line numbers)."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)


_LISTING_CHARACTERS = ("\t", "\a", "\n", "\f")


def _after_jinja(rendered: str) -> str:
    """DocxTemplate.render_xml_part, after Jinja."""
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", rendered)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    if not any(character in xml for character in _LISTING_CHARACTERS):
        return xml  # resolve_listing only rewrites these characters: nothing to do
    return str(_DOCXTPL.resolve_listing(xml))


def _fix_drawing_ids(tree: etree._Element) -> None:
    """DocxTemplate.fix_docpr_ids: drawings renumbered from 1001 in document order."""
    for index, element in enumerate(tree.xpath("//wp:docPr", namespaces=nsmap)):
        element.attrib["id"] = str(_FIRST_DRAWING_ID + 1 + index)


@dataclass(slots=True)
class _Part:
    """One part rendered per row: its compiled template and how its output becomes bytes."""

    name: str
    template: Template
    finish: Callable[[str], bytes]
    dos_time: tuple[int, int]


class _Body:
    """word/document.xml: the rendered body goes back into the document element, as docxtpl's
    map_tree does, and the whole element is serialised as python-docx saves a part."""

    def __init__(self, document_xml: bytes) -> None:
        self._root = parse_xml(document_xml)
        self._body = self._root.find(_W_BODY)
        if self._body is None:
            raise Unsupported("word/document.xml has no body")

    @property
    def source(self) -> str:
        return str(etree.tostring(self._body, encoding="unicode"))

    def finish(self, rendered: str) -> bytes:
        xml = _after_jinja(rendered)
        tree = _DOCXTPL.fix_tables(xml)
        if "docPr" in xml:  # no drawing, nothing to renumber (the xpath costs a tree walk)
            _fix_drawing_ids(tree)
        self._root.replace(self._body, tree)
        self._body = tree
        return bytes(serialize_part_xml(self._root))


def _header_footer_finish(rendered: str) -> bytes:
    """DocxTemplate.map_headers_footers_xml loads the output as a new part (python-docx's
    parser) and python-docx serialises it on save."""
    return bytes(serialize_part_xml(parse_xml(_after_jinja(rendered).encode("utf-8"))))


def _footnotes_finish(rendered: str) -> bytes:
    """DocxTemplate.render_footnotes stores the rendered text as the part's bytes."""
    return _after_jinja(rendered).encode("utf-8")


@dataclass(slots=True)
class CompiledTemplate:
    """The entries that are the same for every row, already laid out as the start of the
    archive (local records and directory records), and the parts rendered per row, written
    after them. Entry order in a package carries no meaning."""

    prefix: Prefix
    parts: list[_Part]

    @property
    def rendered_parts(self) -> list[str]:
        return [part.name for part in self.parts]


def compile_template(source: bytes, env: Environment) -> CompiledTemplate:
    """Raises `Unsupported` for what only docxtpl renders right, `TemplateRejected` for a
    template Jinja refuses."""
    try:
        entries = read_entries(source)
        document = docx.Document(io.BytesIO(source))
    except (BadZip, ValueError, KeyError) as exc:
        raise Unsupported(f"package not readable part by part: {exc}") from exc
    by_name = {entry.name: entry for entry in entries}
    if len(by_name) != len(entries):
        raise Unsupported("package has duplicate entry names")
    package = document.part.package
    loaded = {str(part.partname).lstrip("/"): part for part in package.iter_parts()}
    unreached = set(by_name) - set(loaded) - {"[Content_Types].xml"}
    unreached = {name for name in unreached if not name.endswith(".rels")}
    if unreached:
        raise Unsupported(f"package holds parts python-docx would drop: {sorted(unreached)[:3]}")
    _check_properties(document)
    sections = len(document.sections)
    replaced: dict[str, RawEntry | _Part] = {}

    def jinja_part(name: str, source_xml: str, finish: Callable[[str], bytes]) -> None:
        patched = str(_DOCXTPL.patch_xml(source_xml))
        dos_time = by_name[name].dos_time
        template = _compile(env, _before_jinja(patched))
        if has_jinja(patched):
            replaced[name] = _Part(name, template, finish, dos_time)
        else:  # no Jinja: the same bytes for every row, rendered and compressed once
            replaced[name] = RawEntry.compress(name, finish(_render(template, {})), dos_time)

    body = _Body(by_name["word/document.xml"].inflate())
    jinja_part("word/document.xml", body.source, body.finish)
    targets: dict[str, int] = {}
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.HEADER, RT.FOOTER):
            continue
        part = rel.target_part
        name = str(part.partname).lstrip("/")
        targets[name] = targets.get(name, 0) + 1
        if part.blob and name not in replaced:
            xml = etree.tostring(parse_xml(part.blob), encoding="unicode")
            jinja_part(name, xml, _header_footer_finish)
    if any(count > 1 for count in targets.values()):
        raise Unsupported("a header or footer is related more than once")
    for name, part in loaded.items():
        if part.content_type != FOOTNOTES_TYPE or sections == 0:
            continue  # docxtpl renders footnotes once per section: never without one
        xml = part.blob.decode("utf-8")
        if sections > 1 and has_jinja(str(_DOCXTPL.patch_xml(xml))):
            raise Unsupported("footnotes with Jinja in a document of several sections")
        jinja_part(name, xml, _footnotes_finish)
    core = package._core_properties_part
    core_name = str(core.partname).lstrip("/")
    replaced[core_name] = RawEntry.compress(core_name, _rendered_properties(document),
                                            by_name[core_name].dos_time)
    laid_out = [replaced.get(entry.name, entry) for entry in entries]
    return CompiledTemplate(Prefix.of([e for e in laid_out if isinstance(e, RawEntry)]),
                            [e for e in laid_out if isinstance(e, _Part)])


def _check_properties(document: Any) -> None:
    try:
        part = document.part.package.part_related_by(RT.CORE_PROPERTIES)
    except KeyError:
        raise Unsupported("no core properties part (python-docx would add one)") from None
    if not str(part.partname).lstrip("/"):
        raise Unsupported("core properties part without a name")
    for prop in RENDERED_PROPERTIES:
        value = getattr(document.core_properties, prop) or ""
        if "{" in value or value.endswith("\n"):
            raise Unsupported(f"core property {prop!r} would be changed by Jinja")


def _rendered_properties(document: Any) -> bytes:
    """What docxtpl's render_properties leaves in the core properties part when none of them
    holds Jinja: every rendered property written back (empty ones become empty elements)."""
    properties = document.core_properties
    for prop in RENDERED_PROPERTIES:
        setattr(properties, prop, getattr(properties, prop))
    return bytes(document.part.package._core_properties_part.blob)


def _compile(env: Environment, source: str) -> Template:
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise TemplateRejected(f"template error: {exc}") from exc


def render_row(compiled: CompiledTemplate, row: dict[str, Any]) -> bytes:
    """One document: rendered parts deflated, every other entry copied compressed."""
    rendered = [RawEntry.compress(part.name, part.finish(_render(part.template, row)),
                                  part.dos_time) for part in compiled.parts]
    return compiled.prefix.archive(rendered)[0]


def _render(template: Template, row: dict[str, Any]) -> str:
    try:
        return template.render(row)
    except SecurityError as exc:
        raise TemplateRejected(f"template blocked by the sandbox: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRejected(f"template error: {exc}") from exc
    except EXPRESSION_ERRORS as exc:
        raise expression_error(exc) from exc
