"""The keyword side of hybrid search: one tokenizer for indexing chunks and for queries.

Chinese has no spaces between words, and PostgreSQL's text-search parsers split only at spaces
and punctuation, so a sentence of Chinese would be one "word". Instead every run of CJK
characters becomes its character bigrams (weight A: 熊猫, 猫吃, 吃竹, ...) and unigrams (weight D:
a one-character word still matches, but counts a tenth as much in `ts_rank`); Latin words are
NFKC-folded, lowercased and Snowball-stemmed (weight A). The result is a `tsvector` literal
with positions and weights, stored as-is under the `simple` configuration (no further parsing),
and a query becomes an OR of its terms: ranking, not matching, decides.

Queries drop function words (English stop words, Chinese particles and question words) so
that "什么" or "how" does not pull in every chunk; documents keep them (a cheap few lexemes)."""

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping

import snowballstemmer  # type: ignore[import-untyped]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_CJK_RUN = re.compile(f"[{_CJK}]")
MAX_WORD_CHARS = 40  # longer "words" (hashes, base64) are noise, and lexemes have a size limit
MAX_POSITION = 16383  # tsvector positions stop here
MAX_POSITIONS_PER_LEXEME = 255
MAX_QUERY_TERMS = 64

_ENGLISH_STOP = frozenset("""a an and are as at be been being but by can could did do does
doing for from had has have how i if in into is it its me my of on or our so than that the
their them then there these they this those to too us was we were what when where which while
who whom why will with would you your""".split())
# Particles, pronouns and question words: in a question they say nothing about the topic.
_CHINESE_STOP = frozenset("""的 了 是 在 和 与 及 或 也 都 就 吗 呢 吧 啊 么 之 其 这 那 我 你 他
她 它 们 有 个 把 被 让 给 对 从 到 为 什么 怎么 怎样 如何 哪里 哪些 哪个 多少 是否 为什么 可以
能否 一个 这个 那个 我们 你们 他们 请问""".split())

# Where a query's CJK run breaks: multi-character stop words and characters that only glue a
# sentence together (single stop characters such as 有 or 对 also start real words: 有效,
# 对象; those are dropped as unigrams only).
_QUERY_BREAK = re.compile("|".join(sorted(
    (word for word in _CHINESE_STOP if len(word) > 1), key=len, reverse=True))
    + "|[的了是吗呢吧啊么]")

_stemmer = snowballstemmer.stemmer("english")


def _words(text: str) -> Iterator[tuple[str, bool]]:
    """(token, is_cjk) in order: a CJK run whole, a Latin/digit word lowercased."""
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        token = match.group()
        if _CJK_RUN.match(token):
            yield token, True
        elif len(token) <= MAX_WORD_CHARS:
            yield token.lower(), False


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    """Memoised: the pure-Python Snowball stemmer costs ~20 us a word, and indexing a chunk
    stems each of its words (text repeats its words; the cache holds a few MB)."""
    stemmed: str = _stemmer.stemWord(word)
    return stemmed


def terms(text: str) -> Iterator[tuple[str, bool]]:
    """(lexeme, strong): CJK bigrams and Latin stems are strong, CJK unigrams weak."""
    for token, cjk in _words(text):
        if not cjk:
            yield _stem(token), True
            continue
        for index, char in enumerate(token):
            yield char, False
            if index + 1 < len(token):
                yield token[index : index + 2], True


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def document_vector(text: str) -> str:
    """A `tsvector` literal for a chunk: every term with its positions and weight."""
    positions: dict[str, list[str]] = {}
    for position, (lexeme, strong) in enumerate(terms(text), start=1):
        entries = positions.setdefault(lexeme, [])
        if len(entries) < MAX_POSITIONS_PER_LEXEME:
            entries.append(f"{min(position, MAX_POSITION)}{'A' if strong else 'D'}")
    return " ".join(f"{_quote(lexeme)}:{','.join(entries)}"
                    for lexeme, entries in positions.items())


def query_terms(text: str) -> list[str]:
    """The distinct lexemes a query searches for, function words left out."""
    found: dict[str, None] = {}
    for token, cjk in _words(text):
        if not cjk:
            if token not in _ENGLISH_STOP:
                found[_stem(token)] = None
            continue
        # Question words and particles split a run into its content pieces: "龙井是哪里产的茶"
        # searches 龙井, 产 and 茶, not 是哪 or 的茶.
        for piece in _QUERY_BREAK.split(token):
            for lexeme, _ in terms(piece):
                if lexeme not in _CHINESE_STOP:
                    found[lexeme] = None
    return list(found)[:MAX_QUERY_TERMS]


def rarest(lexemes: list[str], frequency: Mapping[str, float], budget: float) -> list[str]:
    """The query's rarest terms whose frequencies (the share of chunks holding each) add up to
    at most `budget`, and at least one. A term every other chunk holds ranks nothing and makes
    the keyword side rank half the table; dropping it is what IDF would do to its weight, and
    it bounds the rows the search reads. Unlisted terms are rare (frequency 0)."""
    kept: list[str] = []
    total = 0.0
    for lexeme in sorted(lexemes, key=lambda lexeme: frequency.get(lexeme, 0.0)):
        share = frequency.get(lexeme, 0.0)
        if kept and total + share > budget:
            break
        kept.append(lexeme)
        total += share
    return kept


def query_expression(text: str, frequency: Mapping[str, float] | None = None,
                     budget: float = 1.0) -> str | None:
    """A `tsquery` literal matching any of the query's terms (the rarest within `budget` when
    term frequencies are known); None when it has none."""
    lexemes = query_terms(text)
    if frequency:
        lexemes = rarest(lexemes, frequency, budget)
    return " | ".join(_quote(lexeme) for lexeme in lexemes) if lexemes else None
