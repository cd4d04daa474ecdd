"""Plain text and Markdown, in whatever encoding they came (UTF-8/16 with or without BOM,
GB18030, Big5, Latin-1, ...): detected, never assumed."""

import codecs
import re

from charset_normalizer import from_bytes
from cmarkgfm import cmark

from services.ingester.extract.base import ExtractionError, Limits

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data[:1_000_000]).best()
        if best is None or best.encoding is None:
            raise ExtractionError("无法识别文本编码") from None
        text = data.decode(best.encoding, errors="replace")
    if len(_CONTROL.findall(text[:100_000])) > 0.01 * min(len(text), 100_000) + 8:
        raise ExtractionError("不是文本文件（含大量控制字符）")
    return text


def extract_txt(data: bytes, limits: Limits) -> str:
    return decode(data)


_BLOCK_TAGS = frozenset({"p", "div", "pre", "li", "ul", "ol", "blockquote", "table", "thead",
                         "tbody", "tr", "hr", "br", "h1", "h2", "h3", "h4", "h5", "h6"})
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
# cmark escapes `<` and `>` in text and attributes, so outside raw HTML every `<` starts a tag;
# `[^<>]` keeps each match attempt within one stretch between two `<`: linear in any input.
_HTML_TOKEN = re.compile(r"(<!--|-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>)")
_ALT = re.compile(r'\salt="([^"]*)"')
_CODE_HASH = re.compile(r"^#", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n)+")
_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&"))


def _markdown_html(text: str) -> str:
    """CommonMark + GFM tables and strikethrough, parsed by cmark-gfm (C, linear time in its
    input, checked against pathological inputs upstream). Raw HTML is kept: its text is text
    the reader sees."""
    return str(cmark.markdown_to_html_with_extensions(
        text, options=cmark.Options.CMARK_OPT_UNSAFE, extensions=["table", "strikethrough"]))


def _html_text(html: str) -> str:
    """The text of cmark's HTML: headings as `# Title` lines, table rows as `a | b`, images
    as their alt text, code as it is (a `# comment` in it indented, not a heading); tags and
    comments dropped."""
    parts = _HTML_TOKEN.split(html)
    out: list[str] = [parts[0]]
    code = comment = False
    row_cells = -1  # cells seen in the current table row; -1 outside a row
    # split() with 4 groups: text, token, closing slash, tag name, attributes, text, ...
    for index in range(1, len(parts), 5):
        token, slash, name, attrs, text = parts[index:index + 5]
        if token == "<!--":
            comment = True
        elif token == "-->":
            comment = False
        elif not comment:
            name = name.lower()
            if name in _HEADING_LEVELS:
                out.append("\n" if slash else "\n" + "#" * _HEADING_LEVELS[name] + " ")
            elif name == "pre":
                code = not slash
                out.append("\n")
            elif name == "tr":  # a row is a line: `a | b`
                row_cells = -1 if slash else 0
                out.append("" if slash else "\n")
            elif name in ("td", "th") and not slash:
                out.append(" | " if row_cells > 0 else "")
                row_cells += 1
            elif name in _BLOCK_TAGS:
                out.append("\n")
            elif name == "img":
                alt = _ALT.search(attrs)
                if alt:
                    out.append(alt.group(1))
        if comment or (row_cells >= 0 and not text.strip()):
            continue
        out.append(_CODE_HASH.sub("    #", text) if code else text)
    plain = "".join(out)
    for escaped, char in _ESCAPES:
        plain = plain.replace(escaped, char)
    return _BLANK_RUNS.sub("\n\n", plain).strip("\n") + "\n"


def extract_markdown(data: bytes, limits: Limits) -> str:
    """Markdown without its markup (what a reader sees is what gets embedded), except headings,
    which stay `# Title` lines for the chunker (extract/base.py)."""
    return _html_text(_markdown_html(decode(data)))
