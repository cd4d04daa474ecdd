"""Chunking: sentence-aware, bounded, overlapping, and right for Chinese without spaces."""

import itertools

import pytest

from services.ingester.chunker import chunk_text, estimate_tokens, split_sentences
from tests import kb_samples as samples


def test_chinese_sentences_split_at_chinese_punctuation_without_spaces() -> None:
    assert split_sentences("今天下雨了。我们去哪里？去图书馆吧！") == [
        "今天下雨了。", "我们去哪里？", "去图书馆吧！"]


def test_english_sentences_keep_decimals_and_quotes_together() -> None:
    sentences = split_sentences('Pi is 3.14 or so. He said "stop." Then he left!')
    assert sentences == ["Pi is 3.14 or so. ", 'He said "stop." ', "Then he left!"]


def test_token_estimate_counts_each_cjk_character() -> None:
    assert estimate_tokens("大熊猫") == 3
    assert estimate_tokens("four words of text") == 4  # 15 letters -> ceil(15 / 4)


@pytest.mark.parametrize("text", [samples.PANDA * 6 + samples.RAIL * 6 + samples.TEA * 6,
                                  " ".join([samples.PHOTOSYNTHESIS, samples.VOLCANO] * 10)])
def test_chunks_respect_the_budget_cover_the_text_and_overlap(text: str) -> None:
    chunks = chunk_text(text, size=60, overlap=15)
    assert len(chunks) > 3
    assert all(estimate_tokens(chunk) <= 60 for chunk in chunks)
    for sentence in split_sentences(text):
        assert any(sentence.strip() in chunk for chunk in chunks), sentence
    for previous, chunk in itertools.pairwise(chunks):
        assert chunk[:8] in previous, "each chunk starts with the end of the one before"


def test_unpunctuated_chinese_is_cut_between_characters_within_the_budget() -> None:
    text = "无标点的中文长句子" * 50
    chunks = chunk_text(text, size=40, overlap=0)
    assert "".join(chunks) == text
    assert all(len(chunk) <= 40 for chunk in chunks)


def test_no_empty_chunks_and_bad_sizes_are_refused() -> None:
    assert chunk_text("  \n\n  ") == []
    assert chunk_text("One sentence.") == ["One sentence."]
    with pytest.raises(ValueError):
        chunk_text("x", size=10, overlap=10)
