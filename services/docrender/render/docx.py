"""Rendering one (template, row) into a DOCX, in a render process.

docxtpl re-parses and re-compiles the template's XML on every render; for a batch of rows over
the same template that compile is most of the cost. `_CompiledTemplate` keeps docxtpl's
behaviour but caches the patched XML and the compiled Jinja template per XML part, so a task's
rows reuse one compilation per render process."""

import io
import re
from collections import OrderedDict
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Template
from jinja2.exceptions import SecurityError, TemplateError

from libs.templating import template_environment

_CACHE_SIZE = 64  # XML parts (a template has a body and maybe headers/footers)
# libxml2 (under python-docx) silently truncates a text node longer than 10,000,000 bytes; a
# rendered part with such a run fails instead of producing a document with the text cut.
MAX_TEXT_RUN_CHARS = 9_000_000
MAX_PART_CHARS = 200_000_000
_LONG_TEXT_RUN = re.compile(f"[^<]{{{MAX_TEXT_RUN_CHARS},}}")

_env = template_environment()
_patched: "OrderedDict[str, str]" = OrderedDict()
_compiled: "OrderedDict[str, Template]" = OrderedDict()


def _remember(cache: "OrderedDict[str, Any]", key: str, value: Any) -> Any:
    cache[key] = value
    if len(cache) > _CACHE_SIZE:
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


class TemplateRejected(Exception):
    """The template (not the data) is at fault: retrying can't help."""


def render_docx(template: bytes, row: dict[str, Any]) -> bytes:
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
