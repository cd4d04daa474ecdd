"""Whether a template's PDFs may be made from merged rows (libs/docxfast/merge.py), decided
once at upload beside its renderer and kept in its metadata.

`merged` only where the pages of rows converted together are those of rows converted one by
one. What would make them differ sends the template to `single`, with the reason:

- rows rendered by docxtpl (they may differ in parts other than the body, headers, footers);
- several sections, or a different first-page header (each row becomes one section);
- even/odd headers, line numbering (they follow the merged document, not the row);
- fields other than PAGE, DATE and TIME (NUMPAGES, SECTIONPAGES, SEQ, REF, TOC... count or
  refer across the merged document);
- footnotes and endnotes, numbered lists (numbering continues from row to row);
- a body that starts with a table (LibreOffice does not always break the page before a table
  that starts a section).

A pure function of the template's bytes and its renderer: it opens no file and no process."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from libs.docxfast.choice import PARTS
from libs.docxfast.merge import W

MERGED, SINGLE = "merged", "single"
PDF_MODES = (MERGED, SINGLE)
ALLOWED_FIELDS = frozenset({"PAGE", "DATE", "TIME"})
_NOT_NUMBERED = frozenset({"bullet", "none"})
_FIELD_NAME = re.compile(r"^\s*([A-Za-z]+)")
_PARTS = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
_NS = {"w": W}


@dataclass(frozen=True, slots=True)
class PdfModeChoice:
    mode: str
    reason: str | None = None


def choose_pdf_mode(source: bytes, renderer: str) -> PdfModeChoice:
    """`source` has already been checked as a safe, readable DOCX (uploads.template_fields)."""
    if renderer != PARTS:
        return PdfModeChoice(SINGLE, "rendered by docxtpl: rows may differ beyond the body, "
                                     "headers and footers")
    try:
        reason = _single_reason(source)
    except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        reason = f"not readable part by part: {type(exc).__name__}"
    return PdfModeChoice(SINGLE, reason) if reason else PdfModeChoice(MERGED)


def _single_reason(source: bytes) -> str | None:
    with zipfile.ZipFile(io.BytesIO(source)) as package:
        names = set(package.namelist())
        document = etree.fromstring(package.read("word/document.xml"))
        parts = {name: etree.fromstring(package.read(name)) for name in names
                 if _PARTS.match(name) and name != "word/document.xml"}
        settings = package.read("word/settings.xml") if "word/settings.xml" in names else b""
        styles = (etree.fromstring(package.read("word/styles.xml"))
                  if "word/styles.xml" in names else None)
        numbering = (etree.fromstring(package.read("word/numbering.xml"))
                     if "word/numbering.xml" in names else None)
    body = document.find("w:body", _NS)
    if body is None:
        return "the document has no body"
    return (_layout_reason(body, settings)
            or _field_reason([document, *parts.values()])
            or _notes_reason(body)
            or _numbering_reason(body, styles, numbering))


def _layout_reason(body: etree._Element, settings: bytes) -> str | None:
    if body.find(".//w:pPr/w:sectPr", _NS) is not None:
        return "several sections: each merged row is one section"
    blocks = [el for el in body if el.tag in (f"{{{W}}}p", f"{{{W}}}tbl", f"{{{W}}}sdt")]
    if blocks and blocks[0].tag == f"{{{W}}}tbl":
        return ("the body starts with a table: LibreOffice may not break the page before a "
                "table that starts a merged row")
    section = body.find("w:sectPr", _NS)
    if section is not None:
        if _on(section.find("w:titlePg", _NS)):
            return "a different first-page header or footer"
        if section.find("w:lnNumType", _NS) is not None:
            return "line numbering counts across merged rows"
    if re.search(rb"<w:evenAndOddHeaders(?:\s+w:val=\"(?:1|true|on)\")?\s*/>", settings):
        return "different even and odd page headers"
    return None


def _on(element: etree._Element | None) -> bool:
    if element is None:
        return False
    return element.get(f"{{{W}}}val", "true") not in ("0", "false", "off")


def _field_reason(roots: list[etree._Element]) -> str | None:
    for root in roots:
        codes = [el.get(f"{{{W}}}instr", "") for el in root.iter(f"{{{W}}}fldSimple")]
        codes += _complex_field_codes(root)
        for code in codes:
            found = _FIELD_NAME.match(code)
            name = found.group(1).upper() if found else code.strip()[:20]
            if name not in ALLOWED_FIELDS:
                return f"field {name} would count or refer across merged rows"
    return None


def _complex_field_codes(root: etree._Element) -> list[str]:
    """Field codes of fldChar begin ... separate/end, their instrText runs joined."""
    codes: list[str] = []
    current: list[str] | None = None
    for el in root.iter(f"{{{W}}}fldChar", f"{{{W}}}instrText"):
        if el.tag == f"{{{W}}}instrText":
            if current is not None:
                current.append(el.text or "")
            continue
        kind = el.get(f"{{{W}}}fldCharType")
        if kind == "begin":
            current = []
        elif kind in ("separate", "end") and current is not None:
            codes.append("".join(current))
            current = None
    return codes


def _notes_reason(body: etree._Element) -> str | None:
    if body.find(".//w:footnoteReference", _NS) is not None \
            or body.find(".//w:endnoteReference", _NS) is not None:
        return "footnotes or endnotes are numbered across merged rows"
    return None


def _numbering_reason(body: etree._Element, styles: etree._Element | None,
                      numbering: etree._Element | None) -> str | None:
    """Numbered (not bulleted) lists the body uses, directly or through its paragraph styles."""
    if numbering is None:
        return None
    used = {el.get(f"{{{W}}}val") for el in body.iterfind(".//w:numPr/w:numId", _NS)}
    style_nums, based_on = {}, {}
    for style in (styles.iterfind("w:style", _NS) if styles is not None else ()):
        style_id = style.get(f"{{{W}}}styleId")
        num = style.find("w:pPr/w:numPr/w:numId", _NS)
        if num is not None:
            style_nums[style_id] = num.get(f"{{{W}}}val")
        parent = style.find("w:basedOn", _NS)
        if parent is not None:
            based_on[style_id] = parent.get(f"{{{W}}}val")
    for el in body.iterfind(".//w:pStyle", _NS):
        style_id, seen = el.get(f"{{{W}}}val"), set()
        while style_id is not None and style_id not in seen:
            seen.add(style_id)
            if style_id in style_nums:
                used.add(style_nums[style_id])
                break
            style_id = based_on.get(style_id)
    abstract_of = {num.get(f"{{{W}}}numId"): num.find("w:abstractNumId", _NS)
                   for num in numbering.iterfind("w:num", _NS)}
    formats = {abstract.get(f"{{{W}}}abstractNumId"): {
        fmt.get(f"{{{W}}}val") for fmt in abstract.iterfind("w:lvl/w:numFmt", _NS)}
        for abstract in numbering.iterfind("w:abstractNum", _NS)}
    for num_id in used - {"0", None}:
        abstract = abstract_of.get(num_id)
        if abstract is None:
            continue
        if formats.get(abstract.get(f"{{{W}}}val"), set()) - _NOT_NUMBERED:
            return "numbered lists continue from one merged row to the next"
    return None
