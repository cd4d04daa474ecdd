"""Plain text and Markdown, in whatever encoding they came (UTF-8/16 with or without BOM,
GB18030, Big5, Latin-1, ...): detected, never assumed."""

import codecs
import re

from charset_normalizer import from_bytes

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


_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+", re.MULTILINE)
_FENCED_HASH = re.compile(r"^#", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_TABLE_RULE = re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$", re.MULTILINE)


def _unfence(text: str) -> str:
    """Code blocks without their fences; a `# comment` inside one is indented so that it is
    not taken for a heading."""
    parts = _FENCE.split(text)
    # split() keeps the fence marker group: parts = text, marker, code, marker, text, ...
    out: list[str] = []
    inside = False
    for index, part in enumerate(parts):
        if index % 2:
            inside = not inside
            continue
        out.append(_FENCED_HASH.sub("    #", part) if inside else part)
    return "".join(out)


def extract_markdown(data: bytes, limits: Limits) -> str:
    """Markdown without its markup (what a reader sees is what gets embedded), except headings,
    which stay `# Title` lines for the chunker (extract/base.py)."""
    text = _unfence(decode(data))
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HEADING.sub(r"\1 ", text)
    text = _TABLE_RULE.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    return _TAG.sub("", text)
