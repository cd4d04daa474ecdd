"""HTML to text with the standard library's parser: it never fetches or expands anything, and
a document that declares entities (an XXE attempt) is refused outright."""

import re
from html.parser import HTMLParser

from services.ingester.extract.base import ExtractionError, Limits
from services.ingester.extract.text import decode

_SKIP = {"script", "style", "noscript", "template", "svg", "head"}
_KEEP_IN_HEAD = {"title"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
          "article", "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt",
          "hr", "title", "main", "nav", "aside", "figcaption"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)


class _TextCollector(HTMLParser):
    def __init__(self, max_chars: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.max_chars = max_chars
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP and not (tag == "head" and self._skipping):
            self._skipping.append(tag)
        elif tag in _KEEP_IN_HEAD and self._skipping == ["head"]:
            self._skipping.append(tag)  # a title inside head: collect it all the same
        if tag in _HEADINGS and not self._skipping:
            # A heading becomes a `# Title` line for the chunker (extract/base.py).
            self.parts.append("\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping and self._skipping[-1] not in _KEEP_IN_HEAD:
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.max_chars:
            raise ExtractionError(f"文本过长 (超过 {self.max_chars:,} 字符)")


def extract_html(data: bytes, limits: Limits) -> str:
    markup = decode(data)
    if _ENTITY_DECL.search(markup):
        raise ExtractionError("含有实体声明（可能的 XXE 攻击），已拒绝")
    collector = _TextCollector(limits.max_text_chars)
    collector.feed(markup)
    collector.close()
    text = "".join(collector.parts)
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip(" |") for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip("# "))
