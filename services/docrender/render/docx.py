"""Rendering (template, rows) into DOCX files, in a render process.

Each template is rendered by the renderer chosen for it at upload (libs.docxfast.choice):
`parts`, the part-level renderer (compiled once per template per render process, then only the
parts holding Jinja are rendered per row), or `docxtpl`, the python-docx object model, for
templates the part-level renderer cannot prove it handles.

docxtpl re-parses and re-compiles the template's XML on every render; `_CompiledTemplate` keeps
docxtpl's behaviour but caches the patched XML and the compiled Jinja template per XML part, so
a task's rows reuse one compilation per render process on the fallback path too."""

import io
import re
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Template
from jinja2.exceptions import SecurityError, TemplateError

from libs.docxfast.choice import DOCXTPL, PARTS
from libs.docxfast.errors import TemplateRejected, Unsupported
from libs.docxfast.merge import estimate_pages
from libs.docxfast.parts import CompiledTemplate, compile_template, render_row
from libs.logging import get_logger
from libs.templating import template_environment

__all__ = ["RenderedRow", "TemplateRejected", "render_docx", "render_rows", "render_rows_paged"]

log = get_logger(__name__)

_CACHE_SIZE = 64  # XML parts (a template has a body and maybe headers/footers)
_TEMPLATES = 32  # compiled templates kept per render process
# libxml2 (under python-docx) silently truncates a text node longer than 10,000,000 bytes; a
# rendered part with such a run fails instead of producing a document with the text cut.
MAX_TEXT_RUN_CHARS = 9_000_000
MAX_PART_CHARS = 200_000_000
_LONG_TEXT_RUN = re.compile(f"[^<]{{{MAX_TEXT_RUN_CHARS},}}")
MAX_DOCUMENT_BYTES = 100 * 2**20  # one rendered document; larger ones fail their row

_env = template_environment()
_patched: "OrderedDict[str, str]" = OrderedDict()
_compiled: "OrderedDict[str, Template]" = OrderedDict()
_packages: "OrderedDict[str, CompiledTemplate | None]" = OrderedDict()


def _remember(cache: "OrderedDict[str, Any]", key: str, value: Any, size: int = _CACHE_SIZE
              ) -> Any:
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)
    return value


class OutputTooLarge(Exception):
    """The rendered document would be larger than we produce whole: fail, never cut."""


class _CheckedTemplate:
    """A compiled part whose rendered XML is checked for size before anything parses it."""

    def __init__(self, template: Template) -> None:
        self._template = template

    def render(self, *args: Any, **kwargs: Any) -> str:
        xml = self._template.render(*args, **kwargs)
        if len(xml) > MAX_PART_CHARS:
            raise OutputTooLarge(f"rendered part of {len(xml)} characters is over the limit "
                                 f"of {MAX_PART_CHARS}")
        if len(xml) > MAX_TEXT_RUN_CHARS and _LONG_TEXT_RUN.search(xml):
            raise OutputTooLarge(f"a rendered text is longer than {MAX_TEXT_RUN_CHARS} "
                                 "characters")
        return xml


class _CachingEnvironment:
    """Stands in for the Jinja environment docxtpl calls `from_string` on."""

    def __init__(self) -> None:
        self.autoescape = True

    def from_string(self, source: str) -> _CheckedTemplate:
        cached = _compiled.get(source)
        if cached is None:
            cached = _remember(_compiled, source, _env.from_string(source))
        else:
            _compiled.move_to_end(source)
        return _CheckedTemplate(cached)


class _CompiledTemplate(DocxTemplate):  # type: ignore[misc]
    def patch_xml(self, src_xml: str) -> str:
        cached = _patched.get(src_xml)
        if cached is None:
            cached = _remember(_patched, src_xml, super().patch_xml(src_xml))
        return cached


def render_docx(template: bytes, row: dict[str, Any]) -> bytes:
    """The fallback renderer: docxtpl over python-docx, the whole package per row."""
    document = _CompiledTemplate(io.BytesIO(template))
    try:
        document.render(row, jinja_env=_CachingEnvironment(), autoescape=True)
    except SecurityError as exc:
        raise TemplateRejected(f"template blocked by the sandbox: {exc}") from exc
    except OutputTooLarge as exc:
        raise TemplateRejected(f"output too large: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRejected(f"template error: {exc}") from exc
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class RenderedRow:
    """One row's outcome: the document and its CRC-32 (the batch ZIP needs it), or why not."""

    data: bytes | None = None
    crc: int = 0
    rejected: str | None = None  # the template's fault: permanent
    error: str | None = None  # anything else: worth a retry


def _part_level(key: str, source: bytes) -> CompiledTemplate | None:
    """The template compiled once per process; None if it must go to docxtpl after all."""
    if key in _packages:
        _packages.move_to_end(key)
        return _packages[key]
    try:
        compiled: CompiledTemplate | None = compile_template(source, _env)
    except Unsupported as exc:  # chosen at upload, but this process can't: never guess
        log.warning("render.fallback", template=key, reason=str(exc))
        compiled = None
    return _remember(_packages, key, compiled, _TEMPLATES)  # type: ignore[no-any-return]


def render_rows(key: str, source: bytes, renderer: str,
                rows: list[dict[str, Any]]) -> list[RenderedRow]:
    """Renders rows of one template (identified by `key`, its object key) in this process."""
    compiled = None
    if renderer == PARTS:
        try:
            compiled = _part_level(key, source)
        except TemplateRejected as exc:
            return [RenderedRow(rejected=str(exc)) for _ in rows]
    elif renderer != DOCXTPL:
        return [RenderedRow(rejected=f"unknown renderer {renderer!r}") for _ in rows]
    results = []
    for row in rows:
        try:
            data = render_row(compiled, row) if compiled else render_docx(source, row)
        except TemplateRejected as exc:
            results.append(RenderedRow(rejected=str(exc)))
        except MemoryError:
            raise  # the sandbox's: the job fails on its memory limit and the process is replaced
        except Exception as exc:
            results.append(RenderedRow(error=f"{type(exc).__name__}: {exc}"))
        else:
            if len(data) > MAX_DOCUMENT_BYTES:
                results.append(RenderedRow(rejected=(
                    f"output too large: {len(data)} bytes, the limit is {MAX_DOCUMENT_BYTES}")))
            else:
                results.append(RenderedRow(data=data, crc=zlib.crc32(data)))
    return results


def render_rows_paged(key: str, source: bytes, renderer: str,
                      rows: list[dict[str, Any]]) -> list[tuple[RenderedRow, int]]:
    """`render_rows`, each document with an estimate of its pages (merged PDF groups are cut
    by it)."""
    results = []
    for rendered in render_rows(key, source, renderer, rows):
        pages = 0
        if rendered.data is not None:
            with zipfile.ZipFile(io.BytesIO(rendered.data)) as package:
                pages = estimate_pages(package.read("word/document.xml"))
        results.append((rendered, pages))
    return results
