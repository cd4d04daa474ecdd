"""Line breaking and fitting for mixed Chinese/Latin slide text.

Chinese breaks between any two characters, Latin only between words (a word wider than the
line is split). Closing punctuation never starts a line and opening punctuation never ends one
(the kinsoku rule): a line may end a little past the width with a hanging mark, which reads
better than a lone "。" at the start of the next line."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageFont

from services.slides.drawing.fonts import Face, load

NO_LINE_START = set("，。、；：！？）》」』】〉〕…‥·・ー—～,.;:!?)]}%’”")
NO_LINE_END = set("（《「『【〈〔([{“‘")
ELLIPSIS = "…"
_CLOSING = "".join(sorted(NO_LINE_START))

# A Latin word (with what clings to it) plus its trailing spaces, a run of spaces, or any single
# other character (a CJK ideograph, a punctuation mark).
_TOKEN = re.compile(r"[0-9A-Za-z\u00C0-\u024F][0-9A-Za-z\u00C0-\u024F'’\-_./:@&+#%]*\s*|\s+|.")

Measure = Callable[[str], float]


def tokens(paragraph: str) -> list[str]:
    """Breakable units of a paragraph, punctuation already glued to its neighbour."""
    raw = _TOKEN.findall(paragraph)
    glued: list[str] = []
    carry = ""
    for token in raw:
        if token in NO_LINE_END:
            carry += token
            continue
        token, carry = carry + token, ""
        if glued and token[0] in NO_LINE_START:
            glued[-1] += token
        else:
            glued.append(token)
    if carry:
        glued.append(carry)
    return glued


def _split_wide(token: str, measure: Measure, width: float) -> list[str]:
    """Cut a token wider than the line into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    piece = ""
    for char in token:
        if piece and measure(piece + char) > width:
            pieces.append(piece)
            piece = char
        else:
            piece += char
    return [*pieces, piece] if piece else pieces


def wrap(paragraph: str, measure: Measure, width: float) -> list[str]:
    """Lines of one paragraph, each at most `width` wide (bar a hanging punctuation mark)."""
    lines: list[str] = []
    line = ""
    for token in tokens(paragraph.strip()):
        if not line and token.isspace():
            continue
        if measure((line + token).rstrip()) <= width:
            line += token
            continue
        # A hanging mark: the token overflows only by its trailing closing punctuation.
        stem = token.rstrip().rstrip(_CLOSING)
        if line and stem and stem != token.rstrip() and measure(line + stem) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        if measure(token.rstrip()) > width:
            *full, last = _split_wide(token.rstrip(), measure, width)
            lines.extend(full)
            line = last + token[len(token.rstrip()):]
        else:
            line = token.lstrip()
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def paragraphs(text: str) -> list[str]:
    """Non-empty lines of a text; each becomes a paragraph (a bullet in a content slide)."""
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    first: bool  # first line of its paragraph (where a bullet goes)


@dataclass(frozen=True, slots=True)
class Block:
    """Text laid out in a box: font size, lines, and the vertical step between lines."""

    size: int
    lines: tuple[Line, ...]
    line_height: int
    paragraph_gap: int
    truncated: bool

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        # The last line counts its em, not its line height: nothing is drawn below it.
        gaps = sum(1 for line in self.lines[1:] if line.first)
        return (len(self.lines) - 1) * self.line_height + self.size + gaps * self.paragraph_gap


def _layout(texts: list[str], font: ImageFont.FreeTypeFont, width: float, size: int,
            line_spacing: float, paragraph_spacing: float) -> Block:
    measure = font.getlength
    lines = tuple(
        Line(text, index == 0)
        for paragraph in texts
        for index, text in enumerate(wrap(paragraph, measure, width))
    )
    return Block(size, lines, round(size * line_spacing), round(size * paragraph_spacing), False)


def fit(
    texts: list[str], face: Face, width: float, height: float, *, max_size: int, min_size: int,
    max_lines: int | None = None, line_spacing: float = 1.3, paragraph_spacing: float = 0.45,
) -> Block:
    """The largest font size in [min_size, max_size] at which the paragraphs fit the box. If
    even the smallest does not fit, the text is cut at the last line that does and ends with an
    ellipsis (`truncated`)."""

    def layout(size: int) -> Block:
        return _layout(texts, load(face, size), width, size, line_spacing, paragraph_spacing)

    def fits(block: Block) -> bool:
        return block.height <= height and (max_lines is None or len(block.lines) <= max_lines)

    low, high = min_size, max(min_size, max_size)
    best = layout(low)
    if not fits(best):
        return _truncate(best, load(face, low), width, height, max_lines)
    while low < high:  # binary search: larger text wraps into more lines, never fewer
        middle = (low + high + 1) // 2
        block = layout(middle)
        if fits(block):
            low, best = middle, block
        else:
            high = middle - 1
    return best


def _truncate(block: Block, font: ImageFont.FreeTypeFont, width: float, height: float,
              max_lines: int | None) -> Block:
    kept: list[Line] = []
    for line in block.lines:
        longer = Block(block.size, (*kept, line), block.line_height, block.paragraph_gap, True)
        if longer.height > height or (max_lines is not None and len(kept) >= max_lines):
            break
        kept.append(line)
    if not kept:
        kept = [block.lines[0]] if block.lines else []
    if kept:
        last = kept[-1].text
        while last and font.getlength(last + ELLIPSIS) > width:
            last = last[:-1]
        kept[-1] = Line(last.rstrip() + ELLIPSIS, kept[-1].first)
    return Block(block.size, tuple(kept), block.line_height, block.paragraph_gap, True)
