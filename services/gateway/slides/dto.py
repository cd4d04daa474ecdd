"""Request bodies of the slide API, in seed 001's snake_case, with every limit stated here."""

from typing import Annotated

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

from libs.tasks.kinds import SLIDES
from proto.slides import AspectRatio, RendererName, SlideType

MAX_TITLE_CHARS = 200
MAX_CONTENT_CHARS = 2000
MAX_VISUAL_DESC_CHARS = 1000
MAX_STYLE_PROMPT_CHARS = 2000
MAX_WAIT_S = 600  # seed 001: a batch waits 300-600 s at most
DEFAULT_WAIT_S = 300

BatchId = Annotated[str, Meta(min_length=1, max_length=64)]
WaitSeconds = Annotated[float, Meta(gt=0, le=MAX_WAIT_S)]


class SlideSpec(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, Meta(min_length=1, max_length=128)]
    type: SlideType
    page_num: Annotated[int, Meta(ge=1, le=10_000)] | None = None  # default: position + 1
    title: Annotated[str, Meta(max_length=MAX_TITLE_CHARS)] = ""
    content_text: Annotated[str, Meta(max_length=MAX_CONTENT_CHARS)] = ""
    visual_desc: Annotated[str, Meta(max_length=MAX_VISUAL_DESC_CHARS)] = ""


class BatchGenerateRequest(msgspec.Struct, forbid_unknown_fields=True):
    slides: Annotated[list[SlideSpec], Meta(min_length=1, max_length=SLIDES.max_items)]
    style_prompt: Annotated[str, Meta(max_length=MAX_STYLE_PROMPT_CHARS)] = ""
    max_workers: Annotated[int, Meta(ge=1, le=SLIDES.max_concurrency)] = SLIDES.concurrency
    aspect_ratio: AspectRatio = AspectRatio.WIDE
    renderer: RendererName | None = None  # default: the slides service's configured one
    session_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = None
    # False: answer at once with the batch_id (then poll /status, or stream its events).
    wait: bool = True
    max_wait_time: WaitSeconds = DEFAULT_WAIT_S


class BatchStatusRequest(msgspec.Struct, forbid_unknown_fields=True):
    batch_id: BatchId


class RetryFailedRequest(msgspec.Struct, forbid_unknown_fields=True):
    batch_id: BatchId
    wait: bool = True
    max_wait_time: WaitSeconds = DEFAULT_WAIT_S


BatchGenerateBody = Annotated[BatchGenerateRequest, Body(examples=[
    Example(summary="A three-slide deck, waiting for the images",
            value={"slides": [
                {"id": "s1", "type": "cover", "title": "2026 年度总结",
                 "content_text": "产品部", "visual_desc": "简约科技风"},
                {"id": "s2", "type": "content", "title": "季度进展",
                 "content_text": "要点一：批量生成上线\n要点二：并发可配置"},
                {"id": "s3", "type": "ending", "title": "谢谢"}],
                   "style_prompt": "deep blue, minimal", "max_workers": 3,
                   "aspect_ratio": "16:9"}),
])]
