"""The `final_prompt` of a slide: what an image model is asked to draw, and (for every
renderer) part of the slide's cache key and result."""

from proto.slides import AspectRatio, SlidePayload, SlideType

TYPE_LABELS = {
    SlideType.COVER: "封面页",
    SlideType.SECTION: "章节页",
    SlideType.CONTENT: "内容页",
    SlideType.ENDING: "结束页",
}


def final_prompt(slide: SlidePayload, style_prompt: str, aspect_ratio: AspectRatio) -> str:
    parts = []
    if style_prompt.strip():
        parts.append(f"整体风格：{style_prompt.strip()}")
    parts.append(f"幻灯片类型：{TYPE_LABELS[slide.type]}，画面比例 {aspect_ratio.value}")
    if slide.visual_desc.strip():
        parts.append(f"画面描述：{slide.visual_desc.strip()}")
    if slide.title.strip():
        parts.append(f"标题文字：「{slide.title.strip()}」")
    if slide.content_text.strip():
        parts.append(f"正文文字：「{slide.content_text.strip()}」")
    parts.append("要求：文字清晰可读、排版整洁，与整套幻灯片风格统一")
    return "\n".join(parts)
