"""Rows of one template as one DOCX, so that LibreOffice loads and exports once for many rows.

The rows were rendered by the part-level renderer from the same template, so their packages
differ only in the parts holding Jinja (the body, headers, footers). The merged package is the
first row's, with:

- each row's body after the previous one's, each ending its own section: the section the
  template defines, starting on a new page, page numbers restarting at 1;
- a row's rendered headers and footers, where they differ from the first row's, as parts of
  their own referenced by that row's section;
- a bookmark at the start of each row (`row_mark`), which the PDF export turns into a named
  destination: the PDF is split at those pages, whatever each row's length (pdfsplit.py).

Which templates may be merged at all (the result must equal converting rows one by one) is
decided at upload by `merge_safety.py`; `NotMergeable` here is the runtime's last word on
documents that still do not fit (the group is then converted row by row)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

from docx.oxml.ns import nsmap
from lxml import etree  # type: ignore[import-untyped]

from libs.docxfast.zipraw import Prefix, RawEntry, read_entries

W, R = nsmap["w"], nsmap["r"]
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
ROW_MARK_PREFIX = "ConveyorRow"  # letters and digits: kept as they are in PDF names
_MARK_ID_BASE = 2_000_000_000  # above any bookmark id a template carries
_REFERENCES = (f"{{{W}}}headerReference", f"{{{W}}}footerReference")
# Rough line and page capacities, erring towards more pages: groups are cut by estimate.
_CHARS_PER_LINE = 38
_LINES_PER_PAGE = 38


class NotMergeable(Exception):
    """These documents cannot be merged exactly: convert them one by one."""


def row_mark(index: int) -> str:
    return f"{ROW_MARK_PREFIX}{index:06d}"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def merge_rows(documents: list[bytes]) -> bytes:
    """One DOCX holding every row, row `i` starting at bookmark `row_mark(i)`."""
    if not documents:
        raise NotMergeable("no documents")
    base_entries = read_entries(documents[0])
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(documents[0])) as base:
        for entry in base_entries:
            entries[entry.name] = base.read(entry.name)
    relationships = etree.fromstring(entries["word/_rels/document.xml.rels"])
    targets = {rel.get("Id"): _part_name(rel.get("Target", "")) for rel in relationships
               if rel.get("TargetMode") != "External"}
    types = etree.fromstring(entries["[Content_Types].xml"])
    root = etree.fromstring(entries["word/document.xml"])
    body = root.find(_w("body"))
    if body is None:
        raise NotMergeable("word/document.xml has no body")
    merged: list[etree._Element] = []
    last = len(documents) - 1
    for index, document in enumerate(documents):
        with zipfile.ZipFile(io.BytesIO(document)) as package:
            row_body = body if index == 0 else _body_of(package.read("word/document.xml"))
            content, section = _split_section(row_body)
            if index > 0:
                _own_headers_footers(index, section, package, entries, targets, relationships,
                                     types)
                _starts_new_page(section)
        _mark_start(content, index)
        if index < last:
            _end_section(content, section)
            merged += content
        else:
            merged += [*content, section]
    for child in list(body):
        body.remove(child)
    body.extend(merged)
    entries["word/document.xml"] = _xml(root)
    entries["word/_rels/document.xml.rels"] = _xml(relationships)
    entries["[Content_Types].xml"] = _xml(types)
    order = [entry.name for entry in base_entries]
    order += [name for name in entries if name not in set(order)]
    return Prefix.of([]).archive([RawEntry.compress(name, entries[name], level=1)
                                  for name in order])[0]


def _xml(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8",
                                standalone=True))


def _part_name(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join("word", target))


def _body_of(xml: bytes) -> etree._Element:
    body = etree.fromstring(xml).find(_w("body"))
    if body is None:
        raise NotMergeable("word/document.xml has no body")
    return body


def _split_section(body: etree._Element) -> tuple[list[etree._Element], etree._Element]:
    children = list(body)
    if not children or children[-1].tag != _w("sectPr"):
        raise NotMergeable("the body does not end with its section properties")
    if body.find(f".//{_w('pPr')}/{_w('sectPr')}") is not None:
        raise NotMergeable("the document has several sections")
    return children[:-1], children[-1]


def _own_headers_footers(index: int, section: etree._Element, package: zipfile.ZipFile,
                         entries: dict[str, bytes], targets: dict[str, str],
                         relationships: etree._Element, types: etree._Element) -> None:
    """Headers and footers this row rendered differently from the first row become parts of
    their own, referenced by this row's section."""
    for number, reference in enumerate(el for el in section if el.tag in _REFERENCES):
        rel_id = reference.get(f"{{{R}}}id")
        name = targets.get(rel_id or "")
        if name is None or name not in entries:
            raise NotMergeable(f"section references a missing part {rel_id!r}")
        data = package.read(name)
        if data == entries[name]:
            continue
        folder, file = posixpath.split(name)
        own = f"{folder}/row{index}-{file}"
        entries[own] = data
        rels = f"{folder}/_rels/{file}.rels"
        if rels in entries:
            entries[f"{folder}/_rels/row{index}-{file}.rels"] = package.read(rels)
        own_id = f"rIdConveyorRow{index}x{number}"
        original = next(rel for rel in relationships if rel.get("Id") == rel_id)
        etree.SubElement(relationships, f"{{{RELS_NS}}}Relationship", Id=own_id,
                         Type=original.get("Type"),
                         Target=posixpath.relpath(own, "word"))
        content_type = next((o.get("ContentType") for o in types
                             if o.get("PartName") == "/" + name), None)
        if content_type is None:
            raise NotMergeable(f"{name} has no content type override")
        etree.SubElement(types, f"{{{TYPES_NS}}}Override", PartName="/" + own,
                         ContentType=content_type)
        reference.set(f"{{{R}}}id", own_id)


def _starts_new_page(section: etree._Element) -> None:
    """The row's section starts on a new page, numbered as the template's first page is (from
    its `pgNumType` start, else 1; its number format kept). Elements go where the schema puts
    them: the section type after the references and notes properties, page numbering after the
    page setup."""
    for old in section.findall(_w("type")):
        section.remove(old)
    section_type = etree.Element(_w("type"))
    section_type.set(_w("val"), "nextPage")
    type_after = [_w(t) for t in ("headerReference", "footerReference", "footnotePr",
                                  "endnotePr")]
    _insert_after(section, section_type, type_after)
    numbering = section.find(_w("pgNumType"))
    if numbering is None:
        numbering = etree.Element(_w("pgNumType"))
        _insert_after(section, numbering, type_after + [_w(t) for t in (
            "type", "pgSz", "pgMar", "paperSrc", "pgBorders", "lnNumType")])
    if numbering.get(_w("start")) is None:
        numbering.set(_w("start"), "1")


def _insert_after(parent: etree._Element, element: etree._Element, before: list[str]) -> None:
    position = 0
    for offset, child in enumerate(parent):
        if child.tag in before:
            position = offset + 1
    parent.insert(position, element)


def _mark_start(content: list[etree._Element], index: int) -> None:
    """A bookmark over the row's first paragraph (in document order: the first cell of a
    leading table). It spans the paragraph's content: a collapsed bookmark in a paragraph that
    also ends the section is exported on the page before."""
    first = None
    for element in content:
        first = element if element.tag == _w("p") else element.find(f".//{_w('p')}")
        if first is not None:
            break
    if first is None:
        raise NotMergeable("a row has no paragraph to mark")
    if index > 0 and content[0].tag == _w("tbl"):
        raise NotMergeable("a row starts with a table (its page break is not kept)")
    at = 1 if len(first) and first[0].tag == _w("pPr") else 0
    if len(first) == at and content and first is content[-1]:
        raise NotMergeable("a row of one empty paragraph has nothing to mark")
    start = etree.Element(_w("bookmarkStart"))
    start.set(_w("id"), str(_MARK_ID_BASE + index))
    start.set(_w("name"), row_mark(index))
    end = etree.Element(_w("bookmarkEnd"))
    end.set(_w("id"), str(_MARK_ID_BASE + index))
    first.insert(at, start)
    first.append(end)


def _end_section(content: list[etree._Element], section: etree._Element) -> None:
    """The row's section properties go into its last paragraph (a section ends with the
    paragraph holding them); after a table, into a paragraph of their own, which is what
    LibreOffice adds after a table ending a document anyway."""
    last = content[-1] if content else None
    if last is None or last.tag != _w("p"):
        last = etree.Element(_w("p"))
        content.append(last)
    properties = last.find(_w("pPr"))
    if properties is None:
        properties = etree.Element(_w("pPr"))
        last.insert(0, properties)
    change = properties.find(_w("pPrChange"))
    if change is not None:
        change.addprevious(section)
    else:
        properties.append(section)


_PAGE_BREAK = re.compile(rb'<w:br [^>]*w:type="page"|<w:lastRenderedPageBreak|'
                         rb'<w:pageBreakBefore(?: w:val="(?:1|true|on)")?/>')
_PARAGRAPH = re.compile(rb"<w:p[ >].*?</w:p>|<w:p/>", re.S)
_TEXT = re.compile(rb"<w:t(?: [^>]*)?>([^<]*)</w:t>")
_ROW = re.compile(rb"<w:tr[ >]")
_DRAWING_HEIGHT = re.compile(rb'<wp:extent cx="\d+" cy="(\d+)"')
_EMU_PER_LINE = 12700 * 14  # a drawing's height in lines of ~14 pt


def estimate_pages(document_xml: bytes) -> int:
    """An overestimate of a row's pages from its body (lines of text, table rows, drawings and
    page breaks): only used to keep a group's size and time limit in bounds."""
    lines = len(_ROW.findall(document_xml))
    for paragraph in _PARAGRAPH.findall(document_xml):
        chars = sum(len(text.decode("utf-8", "replace")) for text in _TEXT.findall(paragraph))
        lines += 1 + chars // _CHARS_PER_LINE
    lines += sum(int(height) // _EMU_PER_LINE for height in
                 _DRAWING_HEIGHT.findall(document_xml))
    breaks = len(_PAGE_BREAK.findall(document_xml))
    return 1 + breaks + lines // _LINES_PER_PAGE
