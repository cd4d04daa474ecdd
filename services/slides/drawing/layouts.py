"""One layout per slide type. Every measure is a fraction of the canvas (`u` is 1% of its
shorter side), so one layout serves 16:9, 4:3, 1:1 and 9:16; portrait canvases stack what
landscape ones put side by side."""

from dataclasses import dataclass

from PIL import Image, ImageDraw

from services.slides.drawing.fonts import Face, FontSet, load
from services.slides.drawing.text import Block, fit, paragraphs
from services.slides.drawing.theme import RGB, Theme

BASELINE = 0.88  # of the em, from its top


@dataclass(frozen=True, slots=True)
class Content:
    type: str
    page_num: int
    title: str
    content_text: str


@dataclass(frozen=True, slots=True)
class Canvas:
    image: Image.Image
    draw: ImageDraw.ImageDraw
    theme: Theme
    fonts: FontSet

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def u(self) -> float:
        return min(self.width, self.height) / 100

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    def size(self, units: float) -> int:
        return max(8, round(units * self.u))


def draw_block(canvas: Canvas, block: Block, face: Face, x: float, y: float, width: float,
               color: RGB, *, center: bool = False, bullet: RGB | None = None) -> float:
    """Draw laid-out text from its top-left corner; returns the y below its last line's em."""
    font = load(face, block.size)
    indent = block.size * 1.1 if bullet else 0.0
    for index, line in enumerate(block.lines):
        if index and line.first:
            y += block.paragraph_gap
        left = x + indent
        if center:
            left = x + (width - font.getlength(line.text)) / 2
        if bullet and line.first:
            radius = block.size * 0.17
            middle = y + block.size * 0.5
            canvas.draw.ellipse((x + radius, middle - radius, x + 3 * radius, middle + radius),
                                fill=bullet)
        # A line's box is one em from its top: CJK glyphs fill the em with the baseline at
        # 0.88 of it, so placing baselines (not ascender lines) keeps rules off the glyphs.
        canvas.draw.text((left, y + block.size * BASELINE), line.text, font=font, fill=color,
                         anchor="ls")
        y += block.line_height
    return y - block.line_height + block.size if block.lines else y


def _accent_bar(canvas: Canvas, x: float, y: float, length_u: float, *, center: bool) -> None:
    length, thick = length_u * canvas.u, max(3.0, 0.7 * canvas.u)
    left = x - length / 2 if center else x
    canvas.draw.rounded_rectangle((left, y, left + length, y + thick), radius=thick / 2,
                                  fill=canvas.theme.accent)


def _page_number(canvas: Canvas, page_num: int) -> None:
    font = load(canvas.fonts.regular, canvas.size(2.2))
    margin = 5 * canvas.u
    canvas.draw.text((canvas.width - margin, canvas.height - margin * 0.8), str(page_num),
                     font=font, fill=canvas.theme.muted, anchor="rb")


def _centered_stack(canvas: Canvas, content: Content, *, title_max: float,
                    subtitle_max: float, bar_above: bool) -> None:
    """Cover and ending: a title and a subtitle centred as one group, with an accent bar."""
    margin = (10 if canvas.portrait else 9) * canvas.u
    width = canvas.width - 2 * margin
    fonts, theme = canvas.fonts, canvas.theme
    title = fit(paragraphs(content.title), fonts.bold, width, canvas.height * 0.36,
                max_size=canvas.size(title_max), min_size=canvas.size(4), max_lines=4,
                line_spacing=1.22)
    subtitle = fit(paragraphs(content.content_text), fonts.regular, width * 0.9,
                   canvas.height * 0.22, max_size=canvas.size(subtitle_max),
                   min_size=canvas.size(2.2), max_lines=4, line_spacing=1.4)
    gap = 3.5 * canvas.u
    total = title.height + subtitle.height + 2 * gap + canvas.u
    y = (canvas.height - total) / 2 - 2 * canvas.u
    center_x = canvas.width / 2
    if bar_above:
        _accent_bar(canvas, center_x, y - gap, 12, center=True)
    y = draw_block(canvas, title, fonts.bold, margin, y, width, theme.title, center=True)
    if not bar_above:
        _accent_bar(canvas, center_x, y + gap * 0.6, 12, center=True)
    draw_block(canvas, subtitle, fonts.regular, margin + width * 0.05, y + gap * 1.6, width * 0.9,
               theme.body, center=True)


def draw_cover(canvas: Canvas, content: Content) -> None:
    _centered_stack(canvas, content, title_max=9.5, subtitle_max=4.2, bar_above=False)


def draw_ending(canvas: Canvas, content: Content) -> None:
    _centered_stack(canvas, content, title_max=11, subtitle_max=3.8, bar_above=True)


def draw_section(canvas: Canvas, content: Content) -> None:
    """A coloured panel with the page number beside (or above) the section title."""
    theme, fonts, u = canvas.theme, canvas.fonts, canvas.u
    if canvas.portrait:
        panel = (0.0, 0.0, float(canvas.width), canvas.height * 0.34)
        text_x, text_y = 9 * u, panel[3] + 9 * u
        text_w, text_h = canvas.width - 18 * u, canvas.height - panel[3] - 18 * u
    else:
        panel = (0.0, 0.0, canvas.width * 0.36, float(canvas.height))
        text_x, text_y = panel[2] + 7 * u, 12 * u
        text_w, text_h = canvas.width - panel[2] - 14 * u, canvas.height - 24 * u
    canvas.draw.rectangle(panel, fill=theme.accent)
    number_font = load(fonts.bold, canvas.size(18))
    canvas.draw.text(((panel[0] + panel[2]) / 2, (panel[1] + panel[3]) / 2),
                     f"{content.page_num:02d}", font=number_font, fill=(255, 255, 255),
                     anchor="mm")
    title = fit(paragraphs(content.title), fonts.bold, text_w, text_h * 0.55,
                max_size=canvas.size(8), min_size=canvas.size(3.5), max_lines=4,
                line_spacing=1.22)
    subtitle = fit(paragraphs(content.content_text), fonts.regular, text_w, text_h * 0.35,
                   max_size=canvas.size(3.6), min_size=canvas.size(2), line_spacing=1.4)
    total = title.height + 5 * u + subtitle.height
    y = text_y + max(0.0, (text_h - total) / 2)
    y = draw_block(canvas, title, fonts.bold, text_x, y, text_w, theme.title)
    _accent_bar(canvas, text_x, y + 2 * u, 8, center=False)
    draw_block(canvas, subtitle, fonts.regular, text_x, y + 5 * u, text_w, theme.body)


def draw_content(canvas: Canvas, content: Content) -> None:
    """A title at the top, an accent rule, and the body as bullets (one per line of text)."""
    theme, fonts, u = canvas.theme, canvas.fonts, canvas.u
    margin_x = (8 if canvas.portrait else 7) * u
    width = canvas.width - 2 * margin_x
    y = 7 * u
    title = fit(paragraphs(content.title), fonts.bold, width,
                (22 if canvas.portrait else 16) * u, max_size=canvas.size(6.2),
                min_size=canvas.size(3), max_lines=3, line_spacing=1.2)
    y = draw_block(canvas, title, fonts.bold, margin_x, y, width, theme.title)
    _accent_bar(canvas, margin_x, y + 2 * u, 8, center=False)
    top = y + 6 * u
    body_paragraphs = paragraphs(content.content_text)
    bullets = len(body_paragraphs) > 1
    max_size = canvas.size(4.4)
    indent = max_size * 1.1 if bullets else 0.0
    body = fit(body_paragraphs, fonts.regular, width - indent, canvas.height - top - 10 * u,
               max_size=max_size, min_size=canvas.size(2.2), line_spacing=1.45,
               paragraph_spacing=0.55)
    draw_block(canvas, body, fonts.regular, margin_x, top, width, theme.body,
               bullet=theme.accent if bullets else None)
    _page_number(canvas, content.page_num)


LAYOUTS = {
    "cover": draw_cover,
    "section": draw_section,
    "content": draw_content,
    "ending": draw_ending,
}
