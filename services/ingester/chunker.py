"""One chunker for every format: sections by heading, sentences within them, sizes counted by
the embedding model's own tokenizer (services/ingester/tokens.py).

Extractors mark headings the Markdown way, a line `# Title` to `###### Title` (extract/base.py),
whatever the source format. Each section is chunked on its own, and every chunk carries the
path of headings above it ("API 文档 > 1. 创建同步任务 > 错误响应") as its context: embedded and
keyword-indexed with the chunk, so a chunk whose text never names its topic is still found by
it. Sentences split correctly for Chinese (no spaces between words or sentences); consecutive
chunks overlap by whole sentences."""

import re
from collections.abc import Iterator

import msgspec

from services.ingester.tokens import TokenCounter

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# A sentence ends at 。！？；… (no space needed), at .!? followed by a space, or at a line
# break; closing quotes and brackets stay with their sentence.
_SENTENCE = re.compile(
    r"""[^\n。！？；…!?.]*(?:[。！？；…]+|[.!?]+(?=\s|$)|\n+|$)[”’"'）」』)\]]*\s*""",
)
_PIECE = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+\\s*|\\s+")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
CONTEXT_SEPARATOR = " > "


class Chunk(msgspec.Struct, frozen=True):
    context: str  # the headings above the chunk, outermost first
    content: str

    @property
    def text(self) -> str:
        """What gets embedded and keyword-indexed: the chunk under its headings."""
        return f"{self.context}\n{self.content}" if self.context else self.content


def split_sentences(text: str) -> list[str]:
    """Sentences with their trailing whitespace, so that joining them restores the text."""
    sentences: list[str] = []
    position = 0
    while position < len(text):
        match = _SENTENCE.match(text, position)
        if match is None or match.end() == position:  # a stray '.' inside a word
            end = text.find(" ", position + 1)
            end = len(text) if end < 0 else end + 1
            sentences.append(text[position:end])
            position = end
            continue
        sentences.append(match.group())
        position = match.end()
    return _merge_fragments(sentences)


def _merge_fragments(sentences: list[str]) -> list[str]:
    """'3.14' and 'e.g. this' split at a '.' that was no sentence end: glue pieces that do not
    end a sentence back onto the next one."""
    merged: list[str] = []
    carry = ""
    for sentence in sentences:
        carry += sentence
        if carry.rstrip() and (carry.rstrip()[-1] in "。！？；….!?”’\"'）」』)]" or "\n" in carry):
            merged.append(carry)
            carry = ""
    if carry.strip():
        merged.append(carry)
    return merged


def sections(text: str) -> Iterator[tuple[list[str], str]]:
    """(heading path, body) of each section, in order; a heading with no body of its own
    yields nothing (its title lives on in its subsections' paths)."""
    path: list[tuple[int, str]] = []
    body: list[str] = []
    fenced = False  # inside a ``` block of plain text, `# comment` is code, not a heading
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line.rstrip("\r\n"))
        if heading is None:
            body.append(line)
            continue
        if "".join(body).strip():
            yield [title for _, title in path], "".join(body)
        body = []
        level = len(heading.group(1))
        path = [(depth, title) for depth, title in path if depth < level]
        if heading.group(2).strip():
            path.append((level, heading.group(2).strip()))
    if "".join(body).strip():
        yield [title for _, title in path], "".join(body)


def _split_long(sentence: str, size: int, count: TokenCounter) -> list[tuple[str, int]]:
    """A sentence over the budget (a run-on, a table row, unpunctuated Chinese): cut between
    words or CJK characters."""
    pieces = _PIECE.findall(sentence)
    parts: list[tuple[str, int]] = []
    current, tokens = "", 0
    for piece, cost in zip(pieces, count(pieces), strict=True):
        if tokens + cost > size and current.strip():
            parts.append((current, tokens))
            current, tokens = "", 0
        current += piece
        tokens += cost
    if current.strip():
        parts.append((current, tokens))
    return parts


def chunk_text(text: str, size: int, overlap: int, count: TokenCounter) -> list[str]:
    """Chunks of at most `size` tokens, each starting with up to `overlap` tokens from the end
    of the previous one (whole sentences when they fit)."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    sentences = [sentence for sentence in split_sentences(text) if sentence.strip()]
    units: list[tuple[str, int]] = []
    for sentence, cost in zip(sentences, count(sentences), strict=True):
        units.extend(_split_long(sentence, size, count) if cost > size else [(sentence, cost)])
    chunks: list[str] = []
    window: list[tuple[str, int]] = []
    tokens = 0
    fresh = False  # whether the window holds anything not yet emitted
    for unit in units:
        if tokens + unit[1] > size and fresh:
            chunks.append("".join(part for part, _ in window).strip())
            window, tokens = _tail(window, overlap, size - unit[1], count)
            fresh = False
        window.append(unit)
        tokens += unit[1]
        fresh = True
    if fresh:
        chunks.append("".join(part for part, _ in window).strip())
    return [chunk for chunk in chunks if chunk]


def _tail(window: list[tuple[str, int]], overlap: int, room: int,
          count: TokenCounter) -> tuple[list[tuple[str, int]], int]:
    """The end of `window` worth at most `overlap` tokens (and no more than `room`, so the next
    sentence still fits): whole sentences where they fit, else the last words of the last one."""
    budget = min(overlap, room)
    kept: list[tuple[str, int]] = []
    tokens = 0
    for unit in reversed(window):
        if tokens + unit[1] > budget:
            break
        kept.insert(0, unit)
        tokens += unit[1]
    if kept or budget <= 0 or not window:
        return kept, tokens
    pieces = _PIECE.findall(window[-1][0])
    tail = ""
    for piece, cost in reversed(list(zip(pieces, count(pieces), strict=True))):
        if tokens + cost > budget:
            break
        tail = piece + tail
        tokens += cost
    return ([(tail, tokens)] if tail.strip() else []), tokens


def chunk_document(text: str, size: int, overlap: int, count: TokenCounter) -> list[Chunk]:
    """The document's chunks, section by section; `size` bounds context and content together
    (in the model's tokens, without its two special tokens)."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    chunks: list[Chunk] = []
    for path, body in sections(text):
        context = _fit_context(path, size // 3, count)
        room = size - (count([context + "\n"])[0] if context else 0)
        chunks.extend(Chunk(context, content)
                      for content in chunk_text(body, room, min(overlap, room // 2), count))
    return chunks


def _fit_context(path: list[str], budget: int, count: TokenCounter) -> str:
    """The heading path within `budget` tokens: inner headings are kept first (they say the
    most about the chunk), an over-long single heading is cut."""
    while path:
        context = CONTEXT_SEPARATOR.join(path)
        if count([context])[0] <= budget:
            return context
        if len(path) == 1:
            parts = _split_long(path[0], budget, count)
            return parts[0][0].strip() if parts else ""
        path = path[1:]
    return ""
