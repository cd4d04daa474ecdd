"""Slides (issue 4): 200 slides through the whole system (gateway -> scheduler -> slides service
-> S3 -> PostgreSQL, local renderer) against the same renderer drawing the same 200 slides in
one process, measured in the same run; then the identical batch again, served from the cache."""

from __future__ import annotations

import time
from typing import Any

import httpx
import uvloop

from bench.stack import isolated_stack
from proto.slides import SLIDE_SIZES, AspectRatio, SlidePayload, SlideType
from services.slides.drawing.slide import draw_png
from services.slides.prompt import final_prompt
from services.slides.renderers.base import RenderJob
from services.slides.renderers.local import draw_job

SLIDES = 200
STYLE = "现代科技风格，蓝色调，简洁专业"
TYPES = (SlideType.SECTION, SlideType.CONTENT, SlideType.CONTENT, SlideType.CONTENT)


def deck() -> list[dict[str, Any]]:
    return [
        {"id": f"bench-{i}", "page_num": i + 1,
         "type": ("cover" if i == 0 else "ending" if i == SLIDES - 1 else TYPES[i % 4].value),
         "title": f"第{i + 1}页：批量生成的吞吐与延迟",
         "content_text": f"每页独立渲染，互不影响（第 {i + 1} 页）\n并发数可配置（1-10）\n"
                         "结果写入对象存储，按需获取",
         "visual_desc": "科技感背景"}
        for i in range(SLIDES)
    ]


def baseline_rate(slides: list[dict[str, Any]]) -> float:
    """The local renderer's own drawing (the same DrawJob the service builds), one process."""
    width, height = SLIDE_SIZES[AspectRatio.WIDE]
    started = time.perf_counter()
    for spec in slides:
        slide = SlidePayload(slide_id=spec["id"], page_num=spec["page_num"],
                             type=SlideType(spec["type"]), title=spec["title"],
                             content_text=spec["content_text"], visual_desc=spec["visual_desc"])
        job = RenderJob(slide=slide, style_prompt=STYLE, aspect_ratio=AspectRatio.WIDE,
                        width=width, height=height,
                        final_prompt=final_prompt(slide, STYLE, AspectRatio.WIDE))
        draw_png(draw_job(job))
    return len(slides) / (time.perf_counter() - started)


async def system_rate(client: httpx.AsyncClient, slides: list[dict[str, Any]]
                      ) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.post("/api/slide/batch/generate", json={
        "slides": slides, "style_prompt": STYLE, "max_workers": 10, "aspect_ratio": "16:9"})
    elapsed = time.perf_counter() - started
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["successful"] == len(slides), body
    return len(slides) / elapsed, body


async def run() -> dict[str, float]:
    slides = deck()
    async with isolated_stack(["registry", "scheduler", "slides", "gateway"]) as (_, url, token):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:
            warm = [{**s, "id": f"warm-{i}", "title": f"预热 {i}"}
                    for i, s in enumerate(slides[:6])]
            await system_rate(client, warm)  # pool processes, fonts, connections
            system, first = await system_rate(client, slides)
            cached, again = await system_rate(client, slides)
    assert all(r["cached"] for r in again["results"])
    baseline = baseline_rate(slides)
    figures = {"system_slides_per_s": system, "baseline_slides_per_s": baseline,
               "ratio": system / baseline, "cached_slides_per_s": cached,
               "system_total_time_s": first["total_time"]}
    print(f"system: {system:.1f} slides/s ({SLIDES} slides at 1920x1080, local renderer, "
          f"max_workers 10, batch total_time {first['total_time']:.1f}s)")
    print(f"one process drawing the same {SLIDES}: {baseline:.1f} slides/s")
    print(f"ratio system/one process: {system / baseline:.2f}")
    print(f"identical batch again, from the cache: {cached:.1f} slides/s "
          f"({cached / system:.1f}x the first run)")
    return figures


if __name__ == "__main__":
    uvloop.run(run())
