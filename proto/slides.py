"""The slides kind's contracts between the gateway and the slides service: a slide travels as an
item payload (`SlidePayload`), the batch's options as task params (`SlideBatchParams`), and a
rendered slide comes back as the item's result (`SlideResult`)."""

from enum import StrEnum

import msgspec


class SlideType(StrEnum):
    COVER = "cover"
    SECTION = "section"
    CONTENT = "content"
    ENDING = "ending"


class AspectRatio(StrEnum):
    WIDE = "16:9"
    STANDARD = "4:3"
    SQUARE = "1:1"
    PORTRAIT = "9:16"


class RendererName(StrEnum):
    LOCAL = "local"  # Pillow, in the slides service's process pool; needs no network
    IMAGE_API = "image_api"  # an OpenAI-compatible image-generation HTTP API


# Pixel size of a slide per aspect ratio (a 1080p screen for 16:9).
SLIDE_SIZES: dict[AspectRatio, tuple[int, int]] = {
    AspectRatio.WIDE: (1920, 1080),
    AspectRatio.STANDARD: (1600, 1200),
    AspectRatio.SQUARE: (1440, 1440),
    AspectRatio.PORTRAIT: (1080, 1920),
}


class SlidePayload(msgspec.Struct, frozen=True, kw_only=True):
    slide_id: str
    page_num: int
    type: SlideType
    title: str = ""
    content_text: str = ""
    visual_desc: str = ""


class SlideBatchParams(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    style_prompt: str = ""
    aspect_ratio: AspectRatio = AspectRatio.WIDE
    renderer: RendererName | None = None  # None: the slides service's default


class SlideResult(msgspec.Struct, frozen=True, kw_only=True):
    slide_id: str
    page_num: int
    title: str
    object_key: str
    final_prompt: str
    renderer: RendererName
    cached: bool
    generation_time: float  # seconds this slide took in the worker, cache hit or render
    width: int
    height: int
    bytes: int
    content_type: str = "image/png"
