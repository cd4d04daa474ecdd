"""Sentence-aware chunking that is correct for Chinese (no spaces between words or sentences).

Sizes are in *estimated model tokens*, not characters: the embedding model sees a CJK character
as one token and an English word as one or two, so a character budget would give Chinese
chunks four times the tokens of English ones and the model would truncate them. The estimate
is one token per CJK character plus one per four other non-space characters."""

import math
import re

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# A sentence ends at 。！？；… (no space needed), at .!? followed by a space, or at a line
# break; closing quotes and brackets stay with their sentence.
_SENTENCE = re.compile(
    r"""[^\n。！？；…!?.]*(?:[。！？；…]+|[.!?]+(?=\s|$)|\n+|$)[”’"'）」』)\]]*\s*""",
)
_PIECE = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+\\s*|\\s+")


def estimate_tokens(text: str) -> int:
    cjk = len(_CJK_CHAR.findall(text))
    other = len(text) - cjk - text.count(" ") - text.count("\n")
    return cjk + math.ceil(max(other, 0) / 4)


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


def _split_long(sentence: str, size: int) -> list[str]:
    """A sentence over the budget (a run-on, a table row, unpunctuated Chinese): cut between
    words or CJK characters."""
    parts: list[str] = []
    current, tokens = "", 0
    for piece in _PIECE.findall(sentence):
        cost = estimate_tokens(piece)
        if tokens + cost > size and current.strip():
            parts.append(current)
            current, tokens = "", 0
        current += piece
        tokens += cost
    if current.strip():
        parts.append(current)
    return parts


def chunk_text(text: str, size: int = 200, overlap: int = 30) -> list[str]:
    """Chunks of at most `size` estimated tokens, each starting with up to `overlap` tokens from
    the end of the previous one (whole sentences when they fit)."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    units: list[tuple[str, int]] = []
    for sentence in split_sentences(text):
        cost = estimate_tokens(sentence)
        if cost > size:
            units.extend((part, estimate_tokens(part)) for part in _split_long(sentence, size))
        elif sentence.strip():
            units.append((sentence, cost))
    chunks: list[str] = []
    window: list[tuple[str, int]] = []
    tokens = 0
    fresh = False  # whether the window holds anything not yet emitted
    for unit in units:
        if tokens + unit[1] > size and fresh:
            chunks.append("".join(part for part, _ in window).strip())
            window, tokens = _tail(window, overlap, size - unit[1])
            fresh = False
        window.append(unit)
        tokens += unit[1]
        fresh = True
    if fresh:
        chunks.append("".join(part for part, _ in window).strip())
    return [chunk for chunk in chunks if chunk]


def _tail(
    window: list[tuple[str, int]], overlap: int, room: int
) -> tuple[list[tuple[str, int]], int]:
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
    for piece in reversed(pieces):
        cost = estimate_tokens(piece)
        if tokens + cost > budget:
            break
        tail = piece + tail
        tokens += cost
    return ([(tail, tokens)] if tail.strip() else []), tokens
