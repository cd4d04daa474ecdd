"""Entry points of the process pool: draw one slide, or fit a provider's image to a slide.
Arguments and results are plain picklable values (a job in, PNG bytes out)."""

import functools
import hashlib
import io
import itertools
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from services.slides.drawing.fonts import find_fonts
from services.slides.drawing.layouts import LAYOUTS, Canvas, Content
from services.slides.drawing.theme import Theme, derive_theme

# zlib level 3 is ~3x faster than the default 6 on slide images for ~10% more bytes.
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True, slots=True)
class DrawJob:
    type: str
    page_num: int
    title: str
    content_text: str
    visual_desc: str
    style_prompt: str
    width: int
    height: int
    font_regular: str = ""  # empty: the installed CJK font (see fonts.find_fonts)
    font_bold: str = ""


@functools.lru_cache(maxsize=16)
def _background(size: tuple[int, int], theme: Theme) -> Image.Image:
    """The theme's vertical gradient. A batch has one theme and one size, so a pool process
    draws it once and copies it for every slide (a third of a slide's drawing time)."""
    column = Image.linear_gradient("L").resize((1, size[1]))
    mask = column.resize(size, Image.Resampling.NEAREST)
    return Image.composite(Image.new("RGB", size, theme.background_bottom),
                           Image.new("RGB", size, theme.background_top), mask)


def _motif(image: Image.Image, theme: Theme, seed: bytes) -> Image.Image:
    """Faint decoration behind the text; its placement follows the slide's own seed, so every
    slide differs a little and the same slide is always drawn the same."""
    rng = random.Random(seed)
    width, height = image.size
    u = min(width, height) / 100
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    accent = theme.accent
    if theme.motif == "grid":
        step = 6 * u
        line = (*accent, 22 if theme.dark else 16)
        for i in range(int(width / step) + 1):
            draw.line(((i * step, 0), (i * step, height)), fill=line, width=1)
        for j in range(int(height / step) + 1):
            draw.line(((0, j * step), (width, j * step)), fill=line, width=1)
        columns, rows = int(width / step), int(height / step)
        nodes = sorted(((rng.randint(columns - 3, columns) * step, rng.randint(1, rows) * step)
                        for _ in range(6)), key=lambda node: node[1])
        for a, b in itertools.pairwise(nodes):
            draw.line((a, (a[0], b[1]), b), fill=(*accent, 45), width=max(1, round(0.2 * u)))
        for x, y in nodes:
            r = 0.6 * u
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*accent, 90))
    elif theme.motif == "blocks":
        x0 = width * rng.uniform(0.74, 0.82)
        draw.rectangle((x0, -height * 0.1, width * 1.05, height * 0.26), fill=(*accent, 36))
        draw.rectangle((x0 + 6 * u, height * 0.2, width * 1.05, height * 0.34),
                       fill=(*accent, 22))
    elif theme.motif == "waves":
        shift = rng.uniform(-0.1, 0.1) * width
        draw.ellipse((-0.25 * width + shift, 0.78 * height, 0.7 * width + shift, 1.5 * height),
                     fill=(*accent, 40))
        draw.ellipse((0.35 * width + shift, 0.84 * height, 1.35 * width + shift, 1.6 * height),
                     fill=(*accent, 28))
    else:
        draw.rectangle((0, 0, width, max(3.0, 0.6 * u)), fill=(*accent, 255))
    base = image.convert("RGBA")
    base.alpha_composite(overlay)
    return base.convert("RGB")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def draw_image(job: DrawJob) -> Image.Image:
    theme = derive_theme(job.style_prompt)
    size = (job.width, job.height)
    seed = hashlib.sha256(f"{job.page_num}|{job.title}|{job.visual_desc}".encode()).digest()
    image = _motif(_background(size, theme), theme, seed)  # returns a new image
    canvas = Canvas(image, ImageDraw.Draw(image), theme, find_fonts(job.font_regular,
                                                                     job.font_bold))
    LAYOUTS[job.type](canvas, Content(job.type, job.page_num, job.title, job.content_text))
    return image


def draw_png(job: DrawJob) -> bytes:
    return _png(draw_image(job))


def fit_png(data: bytes, width: int, height: int) -> bytes:
    """A provider's image cropped to the slide's aspect ratio and scaled to its size."""
    with Image.open(io.BytesIO(data)) as source:
        source.load()
        fitted = ImageOps.fit(source.convert("RGB"), (width, height),
                              method=Image.Resampling.LANCZOS)
    return _png(fitted)


def warm_up() -> str:
    """Load the fonts in a pool process before the first real slide needs them."""
    return find_fonts().regular.path
