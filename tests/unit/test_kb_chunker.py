"""Chunking: sections by heading, sentence-aware, sized by the model's own tokenizer,
overlapping by sentences, right for Chinese without spaces; the same for every format."""

import itertools

import pytest

from services.ingester.chunker import Chunk, chunk_document, chunk_text, sections, split_sentences
from services.ingester.extract import Limits, extract_text
from services.ingester.tokens import token_counter
from tests import kb_samples as samples

count = token_counter()


def tokens(text: str) -> int:
    return count([text])[0]


def test_chinese_sentences_split_at_chinese_punctuation_without_spaces() -> None:
    assert split_sentences("今天下雨了。我们去哪里？去图书馆吧！") == [
        "今天下雨了。", "我们去哪里？", "去图书馆吧！"]


def test_english_sentences_keep_decimals_and_quotes_together() -> None:
    sentences = split_sentences('Pi is 3.14 or so. He said "stop." Then he left!')
    assert sentences == ["Pi is 3.14 or so. ", 'He said "stop." ', "Then he left!"]


def test_token_counts_are_the_models_word_pieces() -> None:
    assert tokens("大熊猫") == 3
    assert tokens("photosynthesis") == 3  # photos ##ynth ##esis: a rare word is several pieces
    assert count(["", "a b"]) == [0, 2]


@pytest.mark.parametrize("text", [samples.PANDA * 6 + samples.RAIL * 6 + samples.TEA * 6,
                                  " ".join([samples.PHOTOSYNTHESIS, samples.VOLCANO] * 10)])
def test_chunks_respect_the_budget_cover_the_text_and_overlap_by_sentences(text: str) -> None:
    chunks = chunk_text(text, 60, 15, count)
    assert len(chunks) > 3
    assert all(tokens(chunk) <= 60 for chunk in chunks)
    for sentence in split_sentences(text):
        assert any(sentence.strip() in chunk for chunk in chunks), sentence
    for previous, chunk in itertools.pairwise(chunks):
        first_sentence = split_sentences(chunk)[0].strip()
        assert previous.endswith(first_sentence), "each chunk starts with the previous' last"


def test_unpunctuated_chinese_is_cut_between_characters_within_the_budget() -> None:
    text = "无标点的中文长句子" * 50
    chunks = chunk_text(text, 40, 0, count)
    assert "".join(chunks) == text
    assert all(tokens(chunk) <= 40 for chunk in chunks)


def test_no_empty_chunks_and_bad_sizes_are_refused() -> None:
    assert chunk_document("  \n\n  ", 200, 30, count) == []
    assert chunk_document("One sentence.", 200, 30, count) == [Chunk("", "One sentence.")]
    with pytest.raises(ValueError):
        chunk_document("x", 10, 10, count)


def test_sections_carry_their_heading_path() -> None:
    text = "intro\n# A\n## A.1\nfirst\n## A.2\nsecond\n# B\nthird\n"
    assert [(path, body.strip()) for path, body in sections(text)] == [
        ([], "intro"), (["A", "A.1"], "first"), (["A", "A.2"], "second"), (["B"], "third")]


def test_every_chunk_carries_its_headings_and_fits_the_model_with_them() -> None:
    text = "# 熊猫\n\n## 饮食\n\n" + samples.PANDA * 8 + "\n\n## Geology\n\n" + samples.VOLCANO * 4
    chunks = chunk_document(text, 80, 20, count)
    assert {chunk.context for chunk in chunks} == {"熊猫 > 饮食", "熊猫 > Geology"}
    assert all(tokens(chunk.text) <= 80 for chunk in chunks)
    assert chunks[0].text.startswith("熊猫 > 饮食\n")
    assert not any("##" in chunk.content for chunk in chunks)


def test_an_overlong_heading_path_keeps_its_innermost_headings() -> None:
    text = "# " + "outer words " * 30 + "\n## Inner\nbody text here."
    [chunk] = chunk_document(text, 60, 10, count)
    assert chunk.context == "Inner" and chunk.content == "body text here."


def test_every_format_gives_the_same_sections_to_the_same_chunker() -> None:
    body = "Green plants turn light into sugar."
    documents = {
        "markdown": f"# Botany\n\n## Photosynthesis\n\n{body}\n".encode(),
        "html": f"<h1>Botany</h1><h2>Photosynthesis</h2><p>{body}</p>".encode(),
        "docx": samples.make_docx([body], headings=((1, "Botany"), (2, "Photosynthesis"))),
        "txt": f"# Botany\n## Photosynthesis\n{body}\n".encode(),
    }
    for fmt, data in documents.items():
        text = extract_text(data, fmt, Limits())
        assert chunk_document(text, 200, 30, count) == [
            Chunk("Botany > Photosynthesis", body)], fmt


@pytest.mark.parametrize("fmt", ["markdown", "txt"])
def test_code_comments_in_fences_are_not_headings(fmt: str) -> None:
    text = extract_text(b"# Setup\n\n```sh\n# install it\nmake\n```\n", fmt, Limits())
    [chunk] = chunk_document(text, 200, 30, count)
    assert chunk.context == "Setup" and "# install it" in chunk.content
