"""Font faces for slide text. Chinese needs a CJK font (installed by scripts/setup.sh, step
`slides`); Noto Sans CJK is preferred for its bold face, WenQuanYi Zen Hei is the fallback."""

import functools
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

# (regular, bold) collections in preference order. In a Noto CJK collection each language has
# its own face; the Simplified Chinese one has the glyph forms mainland readers expect.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
     "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
PREFERRED_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True, slots=True)
class Face:
    path: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class FontSet:
    regular: Face
    bold: Face


class FontMissing(RuntimeError):
    pass


def _face(path: str) -> Face:
    """The Simplified Chinese face of a collection, or its first face."""
    for index in range(16):
        try:
            family, _ = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family == PREFERRED_FAMILY:
            return Face(path, index)
    return Face(path, 0)


@functools.cache
def find_fonts(regular: str = "", bold: str = "") -> FontSet:
    """The configured fonts, or the first installed candidate pair."""
    if regular:
        return FontSet(_face(regular), _face(bold or regular))
    for regular_path, bold_path in CANDIDATES:
        if Path(regular_path).is_file() and Path(bold_path).is_file():
            return FontSet(_face(regular_path), _face(bold_path))
    raise FontMissing(
        "no CJK font found: run `bash scripts/setup.sh slides` (installs fonts-noto-cjk) or set "
        "CONVEYOR_SLIDES_FONT_REGULAR / CONVEYOR_SLIDES_FONT_BOLD"
    )


@functools.lru_cache(maxsize=512)
def load(face: Face, size: int) -> ImageFont.FreeTypeFont:
    # Chinese and Latin need no shaping; the basic layout is faster than raqm and gives the
    # same pixels on every machine, whichever libraries Pillow was built with.
    return ImageFont.truetype(face.path, size, index=face.index,
                              layout_engine=ImageFont.Layout.BASIC)
