"""A theme follows the style prompt's words; the final prompt carries everything an image model
needs; the cache key changes with anything that changes the image."""

from proto.slides import AspectRatio, SlidePayload, SlideType
from services.slides.cache import cache_key
from services.slides.drawing.slide import DrawJob, draw_image
from services.slides.drawing.theme import derive_theme
from services.slides.prompt import final_prompt


def test_colour_words_pick_the_hue_and_tech_words_a_dark_grid() -> None:
    tech = derive_theme("现代科技风格，蓝色调，简洁专业")
    assert tech.dark and tech.motif == "grid"
    assert tech.accent[2] > tech.accent[0], "blue accent"
    warm = derive_theme("温暖 自然 橙色")
    assert not warm.dark and warm.accent[0] > warm.accent[2], "orange, not nature's green"
    assert derive_theme("商务").motif == "blocks"


def test_an_unknown_prompt_gets_a_stable_theme_of_its_own() -> None:
    assert derive_theme("赛璐璐") == derive_theme("赛璐璐")
    assert derive_theme("") == derive_theme("")


def test_final_prompt_holds_style_visual_title_and_content() -> None:
    slide = SlidePayload(slide_id="s", page_num=1, type=SlideType.COVER, title="项目汇报",
                         content_text="AI-PPT Flow 项目进展", visual_desc="科技感背景")
    prompt = final_prompt(slide, "蓝色调", AspectRatio.WIDE)
    for part in ("蓝色调", "科技感背景", "项目汇报", "AI-PPT Flow 项目进展", "封面页", "16:9"):
        assert part in prompt


def test_cache_key_depends_on_tenant_and_every_identity_field() -> None:
    identity = {"renderer": "some-renderer", "prompt": "p", "size": [1920, 1080]}
    key = cache_key("t1", identity)
    assert key == cache_key("t1", dict(identity))
    assert key != cache_key("t2", identity)
    assert key != cache_key("t1", {**identity, "size": [1600, 1200]})


def test_every_type_draws_at_every_aspect_ratio() -> None:
    for kind in SlideType:
        for width, height in ((1920, 1080), (1600, 1200), (1440, 1440), (1080, 1920)):
            job = DrawJob(type=kind.value, page_num=3, title="标题 Title",
                          content_text="正文\n第二行", visual_desc="", style_prompt="简约",
                          width=width // 4, height=height // 4)
            image = draw_image(job)
            assert image.size == (width // 4, height // 4)
            low, high = image.convert("L").getextrema()
            assert high - low > 60, (kind, width, height)
