"""Line breaking and fitting of slide text (Chinese, Latin, mixed), with a fixed-width measure
for exact expectations and the real CJK font for fitting."""

from services.slides.drawing.fonts import find_fonts, load
from services.slides.drawing.text import ELLIPSIS, fit, paragraphs, tokens, wrap


def width(text: str) -> float:
    return 10.0 * len(text)


def test_chinese_breaks_between_characters() -> None:
    assert wrap("批量生成接口上线了", width, 40) == ["批量生成", "接口上线", "了"]


def test_latin_breaks_between_words_and_splits_a_word_wider_than_the_line() -> None:
    assert wrap("make slides fast", width, 60) == ["make", "slides", "fast"]
    assert wrap("supercalifragilistic ok", width, 80) == ["supercal", "ifragili", "stic ok"]


def test_closing_punctuation_never_starts_a_line() -> None:
    lines = wrap("生成效率大幅提升。并发可配置", width, 80)
    assert lines[0] == "生成效率大幅提升。"  # the full stop hangs rather than wrapping alone
    assert not any(line[0] in "，。、；：！？）" for line in lines)


def test_opening_punctuation_never_ends_a_line() -> None:
    lines = wrap("最大并发数（1-10）可配置", width, 50)
    assert not any(line.endswith("（") for line in lines)
    assert "".join(lines) == "最大并发数（1-10）可配置"


def test_mixed_text_keeps_latin_words_whole() -> None:
    lines = wrap("每个批量任务都有唯一的 session_id 标识", width, 130)
    assert any("session_id" in line for line in lines)
    assert all(width(line) <= 130 for line in lines)


def test_tokens_glue_punctuation_to_neighbours() -> None:
    assert tokens("（重点）是：") == ["（重", "点）", "是："]


def test_paragraphs_drop_blank_lines() -> None:
    assert paragraphs("一\n\n  二  \r\n三\n") == ["一", "二", "三"]


def test_fit_picks_the_largest_size_that_fits() -> None:
    face = find_fonts().regular
    text = ["批量生成接口使用说明：支持多进程并发生成所有幻灯片图片"]
    block = fit(text, face, 600, 200, max_size=120, min_size=10)
    font = load(face, block.size)
    assert block.height <= 200 and not block.truncated
    assert all(font.getlength(line.text) <= 600 + block.size for line in block.lines)
    bigger = fit(text, face, 600, 200, max_size=block.size + 1, min_size=block.size + 1)
    assert bigger.truncated or bigger.height > 200


def test_fit_prefers_the_maximum_size_for_short_text() -> None:
    block = fit(["谢谢"], find_fonts().bold, 1000, 400, max_size=90, min_size=20)
    assert block.size == 90 and [line.text for line in block.lines] == ["谢谢"]


def test_fit_truncates_with_an_ellipsis_when_even_the_smallest_size_overflows() -> None:
    block = fit(["很长的正文" * 200], find_fonts().regular, 400, 100, max_size=40, min_size=20)
    assert block.truncated and block.size == 20
    assert block.lines[-1].text.endswith(ELLIPSIS) and block.height <= 100


def test_fit_honours_max_lines() -> None:
    block = fit(["一二三四五六七八九十" * 4], find_fonts().regular, 200, 1000, max_size=40,
                min_size=30, max_lines=2)
    assert len(block.lines) <= 2
