"""A visual theme derived from the batch's `style_prompt` (Chinese or English keywords): hue,
light or dark, and a background motif. A prompt that names no colour still gets a stable hue of
its own (from its hash), so one batch always looks like one deck."""

import colorsys
import hashlib
from dataclasses import dataclass

RGB = tuple[int, int, int]

# Colour names first: "温暖 自然 橙色" is orange, whatever moods it also names.
HUES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.60, ("蓝", "blue", "navy")),
    (0.00, ("红", "red")),
    (0.36, ("绿", "green")),
    (0.76, ("紫", "purple", "violet")),
    (0.07, ("橙", "orange")),
    (0.12, ("金", "gold", "黄", "yellow")),
    (0.49, ("青", "teal", "cyan")),
    (0.92, ("粉", "pink")),
)
MOOD_HUES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.60, ("海洋", "ocean", "科技", "tech")),
    (0.00, ("中国风", "喜庆", "festive")),
    (0.36, ("自然", "nature", "环保", "eco", "健康")),
    (0.76, ("梦幻", "dream")),
    (0.07, ("温暖", "warm", "活力")),
    (0.12, ("奢华", "luxury")),
    (0.49, ("清新", "fresh")),
    (0.92, ("浪漫", "romantic")),
)
DARK_WORDS = ("暗", "深色", "黑", "dark", "night", "夜", "科技", "tech", "未来", "futur", "赛博")
LIGHT_WORDS = ("浅色", "白", "light", "简约", "简洁", "minimal", "清新", "明亮", "bright", "clean")
GRAYSCALE_WORDS = ("灰", "gray", "grey", "黑白", "monochrome")
MOTIFS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("grid", ("科技", "tech", "数据", "data", "智能", "未来", "futur", "数字", "digital")),
    ("blocks", ("商务", "business", "专业", "professional", "corporate", "企业", "汇报", "report")),
    ("waves", ("自然", "nature", "温暖", "warm", "柔和", "soft", "手绘", "organic", "水彩")),
    ("plain", ("简约", "简洁", "minimal", "极简", "clean")),
)


@dataclass(frozen=True, slots=True)
class Theme:
    dark: bool
    background_top: RGB
    background_bottom: RGB
    title: RGB
    body: RGB
    muted: RGB
    accent: RGB
    accent_soft: RGB
    motif: str  # grid | blocks | waves | plain


def _rgb(hue: float, saturation: float, lightness: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return (round(r * 255), round(g * 255), round(b * 255))


def _has(prompt: str, words: tuple[str, ...]) -> bool:
    return any(word in prompt for word in words)


def derive_theme(style_prompt: str) -> Theme:
    prompt = style_prompt.lower()
    digest = hashlib.sha256(style_prompt.encode()).digest()
    hue = next((h for h, words in (*HUES, *MOOD_HUES) if _has(prompt, words)), digest[0] / 255)
    saturation = 0.0 if _has(prompt, GRAYSCALE_WORDS) else 0.62
    # "科技" alone means dark; an explicit light word wins over it.
    dark = _has(prompt, DARK_WORDS) and not _has(prompt, LIGHT_WORDS[:3])
    motif = next((name for name, words in MOTIFS if _has(prompt, words)),
                 ("grid", "blocks", "waves")[digest[1] % 3])
    if dark:
        return Theme(
            dark=True,
            background_top=_rgb(hue, saturation * 0.8, 0.17),
            background_bottom=_rgb(hue + 0.03, saturation, 0.07),
            title=(246, 248, 252),
            body=(214, 222, 234),
            muted=(150, 162, 182),
            accent=_rgb(hue - 0.04, min(1.0, saturation + 0.3), 0.58),
            accent_soft=_rgb(hue, saturation, 0.30),
            motif=motif,
        )
    return Theme(
        dark=False,
        background_top=(252, 252, 253),
        background_bottom=_rgb(hue, saturation * 0.55, 0.92),
        title=_rgb(hue, saturation * 0.9, 0.22),
        body=(52, 58, 72),
        muted=(118, 126, 142),
        accent=_rgb(hue, min(1.0, saturation + 0.2), 0.47),
        accent_soft=_rgb(hue, saturation * 0.7, 0.84),
        motif=motif,
    )
