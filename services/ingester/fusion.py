"""How a hybrid search weighs its two rankings, per query, from two principles:

- **Can the model read the query?** An embedding model reads the scripts it was trained on
  (all-MiniLM-L6-v2: English; most Chinese characters are unknown to it, and its vector of a
  Chinese question is close to noise). The vector side's weight is scaled by the share of the
  query written in scripts the configured model reads (`Coverage`); the keyword index reads
  every script (keywords.py), so keywords keep theirs.
- **Does the ranking single anything out?** Each side is read as its `depth` best scores
  (cosine similarity; `ts_rank` for keywords, where a chunk holding none of the query's words
  scores 0, so a short list of matches is topped up with zeros). A side's weight is scaled
  by how far its best score stands above the mean of those scores, in their standard
  deviations (the best's z-score): a ranking whose best stands out from a crowd weighs
  more than one whose scores are spread evenly or flat. Free of each score's scale and
  offset.

Each candidate then takes, per side, its distance above that side's mean as a share of the
best's (1 for the best; a chunk the side did not return counts as its worst), and the sides
are summed with their weights. That sum is the weighted sum of the two z-scores: score
fusion, which keeps what reciprocal rank fusion throws away, how far apart the scores are.
"""

import re
import statistics
import unicodedata
from collections.abc import Sequence

import msgspec

# Han, kana and Hangul: no spaces between words, one character often one word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNITS = re.compile(f"[{_CJK}]|[^\\W\\d_{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
SCRIPTS = ("latin", "cjk", "other")
MIN_SCORE = 1e-6  # a returned chunk's fused score is in [MIN_SCORE, 1]


def _script(unit: str) -> str:
    if _CJK_CHAR.match(unit):
        return "cjk"
    # Latin letters, accented ones included (Latin-1 to Latin Extended-B).
    return "latin" if all(ord(char) < 0x250 for char in unit) else "other"


def script_shares(text: str) -> dict[str, float]:
    """The share of the text's words in each script, a CJK character counting as a word
    (Chinese writes words without spaces, mostly of one or two characters). Digits and
    punctuation count for none; a text without letters is {}."""
    counts: dict[str, int] = {}
    for unit in _UNITS.findall(unicodedata.normalize("NFKC", text)):
        script = _script(unit)
        counts[script] = counts.get(script, 0) + 1
    total = sum(counts.values())
    return {script: count / total for script, count in counts.items()} if total else {}


class Coverage(msgspec.Struct, frozen=True):
    """The scripts the configured embedding model reads."""

    scripts: frozenset[str]

    @classmethod
    def parse(cls, value: str) -> "Coverage":
        """"latin,cjk" (any of SCRIPTS) or "all"; ValueError naming an unknown script."""
        names = {name.strip().lower() for name in value.split(",") if name.strip()}
        if names == {"all"}:
            return cls(frozenset(SCRIPTS))
        unknown = names - set(SCRIPTS)
        if unknown or not names:
            raise ValueError(f"unknown script(s) {sorted(unknown)}: use {', '.join(SCRIPTS)} "
                             "or all")
        return cls(frozenset(names))

    def readable(self, query: str) -> float:
        """The share of the query the model reads: 1 for a query without letters (nothing
        to hold against the model)."""
        shares = script_shares(query)
        if not shares:
            return 1.0
        return sum(share for script, share in shares.items() if script in self.scripts)


class Side(msgspec.Struct, frozen=True):
    """One ranking as fusion reads it. `places`: each candidate's distance above the side's
    mean score as a share of the best's (1 for the best); `floor`: the place of its worst
    (<= 0), where chunks it did not return count; `standout`: the best's z-score (0 when
    every score is equal: nothing singled out)."""

    places: dict[int, float]
    floor: float
    standout: float


def side(candidates: Sequence[tuple[int, float]], pad_to: int = 0) -> Side:
    """`candidates`: (chunk id, score), higher better. `pad_to`: read as that many scores,
    zeros for the missing ones (keywords: a chunk without the query's words scores 0)."""
    scores = [score for _, score in candidates]
    population = scores + [0.0] * max(0, pad_to - len(scores))
    if not scores:
        return Side({}, 0.0, 0.0)
    best, mean = max(population), statistics.fmean(population)
    deviation = statistics.pstdev(population)
    if best <= mean or deviation <= 0:
        return Side({chunk: 1.0 for chunk, _ in candidates}, 1.0, 0.0)
    return Side({chunk: (score - mean) / (best - mean) for chunk, score in candidates},
                (min(population) - mean) / (best - mean), (best - mean) / deviation)


class Weights(msgspec.Struct, frozen=True):
    vector: float
    keyword: float


def weigh(base: Weights, *, readable: float, vector: Side, keyword: Side) -> Weights:
    """Each side's configured weight scaled by its standout, the vector side's also by the
    share of the query the model reads. A side without candidates weighs 0; when neither
    side singles anything out, the configured weights (scaled by readability) stand; a ranking
    that is all there is (a query of stop words only, which the model cannot read either)
    ranks alone."""
    by_script = Weights(vector=base.vector * readable if vector.places else 0.0,
                        keyword=base.keyword if keyword.places else 0.0)
    if by_script.vector + by_script.keyword <= 0:
        by_script = Weights(vector=base.vector if vector.places else 0.0,
                            keyword=base.keyword if keyword.places else 0.0)
    standout = Weights(vector=by_script.vector * vector.standout,
                       keyword=by_script.keyword * keyword.standout)
    chosen = standout if standout.vector + standout.keyword > 0 else by_script
    return Weights(vector=round(chosen.vector, 6), keyword=round(chosen.keyword, 6))


class Fused(msgspec.Struct, frozen=True):
    chunk_id: int
    # The weighted sum of the sides' places, rescaled: 1 for the best of every side, 0 for
    # the worst of every side (at least MIN_SCORE for a chunk returned).
    score: float
    vector_rank: int | None
    keyword_rank: int | None


def fuse(weights: Weights, vector: Side, keyword: Side, vector_ranking: Sequence[int],
         keyword_ranking: Sequence[int], top_k: int) -> list[Fused]:
    """The `top_k` best chunks of either ranking (chunk ids, best first) by the weighted sum
    of their places, ties broken by chunk id. A side weighing 0 ranks nothing."""
    vector_ranks = ({chunk: rank for rank, chunk in enumerate(vector_ranking, start=1)}
                    if weights.vector > 0 else {})
    keyword_ranks = ({chunk: rank for rank, chunk in enumerate(keyword_ranking, start=1)}
                     if weights.keyword > 0 else {})
    best = weights.vector + weights.keyword
    worst = weights.vector * vector.floor + weights.keyword * keyword.floor
    scored = []
    for chunk in vector_ranks.keys() | keyword_ranks.keys():
        total = (weights.vector * vector.places.get(chunk, vector.floor)
                 + weights.keyword * keyword.places.get(chunk, keyword.floor))
        scored.append(((total - worst) / (best - worst) if best > worst else 1.0, chunk))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [Fused(chunk_id=chunk, score=round(max(score, MIN_SCORE), 6),
                  vector_rank=vector_ranks.get(chunk), keyword_rank=keyword_ranks.get(chunk))
            for score, chunk in scored[:top_k]]
