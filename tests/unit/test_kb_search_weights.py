"""How a hybrid search weighs its rankings per query: by the share of the query written in
scripts the embedding model reads, and by how far each ranking's best candidates stand out
(its spread); then the weighted mean of each chunk's places."""

import pytest

from services.ingester.fusion import (
    Coverage,
    Side,
    Weights,
    fuse,
    script_shares,
    side,
    weigh,
)

ENGLISH_ONLY = Coverage.parse("latin")
BOTH = Coverage.parse("latin,cjk")


def test_scripts_count_words_and_cjk_characters() -> None:
    assert script_shares("How do green plants store energy?") == {"latin": 1.0}
    assert script_shares("熊猫吃竹子") == {"cjk": 1.0}
    assert script_shares("Redis 里的状态丢了怎么办") == {"latin": 0.1, "cjk": 0.9}
    assert script_shares("Привет world") == {"other": 0.5, "latin": 0.5}
    assert script_shares("2026 ?!") == {}


def test_the_model_reads_what_its_coverage_says() -> None:
    assert ENGLISH_ONLY.readable("How do green plants store energy?") == 1.0
    assert ENGLISH_ONLY.readable("熊猫每天吃什么") == 0.0
    assert ENGLISH_ONLY.readable("Redis 里的状态丢了怎么办") == pytest.approx(0.1)
    assert BOTH.readable("熊猫每天吃什么") == 1.0
    assert Coverage.parse("all").readable("Привет") == 1.0
    assert ENGLISH_ONLY.readable("42") == 1.0


def test_coverage_names_an_unknown_script() -> None:
    with pytest.raises(ValueError, match="klingon"):
        Coverage.parse("latin,klingon")
    with pytest.raises(ValueError):
        Coverage.parse("")


def test_a_side_is_read_as_places_above_its_mean_and_how_far_its_best_stands_out() -> None:
    standout = side([(1, 0.9), (2, 0.1), (3, 0.1), (4, 0.1)])
    assert standout.places == {1: 1.0, 2: pytest.approx(-1 / 3), 3: pytest.approx(-1 / 3),
                               4: pytest.approx(-1 / 3)}
    assert standout.floor == pytest.approx(-1 / 3)
    even = side([(1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1)])
    assert standout.standout > even.standout > 0  # one out of a crowd weighs more
    assert side([(1, 0.5), (2, 0.5)]) == Side({1: 1.0, 2: 1.0}, 1.0, 0.0)  # nothing singled out
    assert side([]) == Side({}, 0.0, 0.0)
    # Free of the scores' scale and offset: cosine similarities and ts_rank alike.
    assert side([(1, 0.9), (2, 0.5), (3, 0.4)]).standout == pytest.approx(
        side([(1, 9.0), (2, 5.0), (3, 4.0)]).standout)
    assert side([(1, 0.9), (2, 0.5), (3, 0.4)]).standout == pytest.approx(
        side([(1, 0.6), (2, 0.2), (3, 0.1)]).standout)
    # Keywords: the chunks without the query's words score 0; one match among 50 stands alone.
    lone = side([(7, 0.3)], pad_to=50)
    assert lone.places == {7: 1.0} and lone.standout == pytest.approx(7.0)


BASE = Weights(vector=1.0, keyword=1.0)


def test_a_query_the_model_cannot_read_leans_on_keywords() -> None:
    # The vectors single out chunk 1; the keywords spread evenly and put it last.
    vectors = side([(1, 0.9)] + [(chunk, 0.3) for chunk in range(2, 21)])
    keywords = side([(chunk, 0.5 - 0.01 * chunk) for chunk in range(2, 21)] + [(1, 0.2)])
    chinese = weigh(BASE, readable=ENGLISH_ONLY.readable("熊猫每天吃什么"), vector=vectors,
                    keyword=keywords)
    assert chinese.vector == 0.0 and chinese.keyword > 0
    # The same question with a model that reads Chinese: its standout leads.
    led = weigh(BASE, readable=BOTH.readable("熊猫每天吃什么"), vector=vectors,
                keyword=keywords)
    assert led.vector > led.keyword > 0
    ranking = list(range(1, 21))
    assert fuse(led, vectors, keywords, ranking, [*ranking[1:], 1], 3)[0].chunk_id == 1
    assert fuse(chinese, vectors, keywords, ranking, [*ranking[1:], 1], 3)[0].chunk_id == 2


def test_flat_sides_keep_their_configured_weights_and_an_empty_side_weighs_nothing() -> None:
    flat = weigh(Weights(vector=2.0, keyword=1.0), readable=1.0,
                 vector=side([(1, 0.5), (2, 0.5)]), keyword=side([(1, 0.2), (2, 0.2)]))
    assert flat == Weights(vector=2.0, keyword=1.0)
    assert weigh(BASE, readable=1.0, vector=side([(1, 0.5), (2, 0.4)]),
                 keyword=side([])).keyword == 0.0
    # Stop words only (no keywords) in a script the model cannot read: vectors rank alone.
    alone = weigh(BASE, readable=0.0, vector=side([(1, 0.5), (2, 0.4)]), keyword=side([]))
    assert alone.vector > 0


def test_fusion_is_the_weighted_mean_of_places() -> None:
    vectors = side([(1, 0.9), (2, 0.8), (3, 0.1)])
    keywords = side([(3, 0.6), (4, 0.1)], pad_to=50)
    weights = weigh(BASE, readable=1.0, vector=vectors, keyword=keywords)
    fused = fuse(weights, vectors, keywords, [1, 2, 3], [3, 4], top_k=4)
    assert fused[0].chunk_id == 3  # the keywords' standout, in both rankings
    assert fused[0].vector_rank == 3 and fused[0].keyword_rank == 1
    assert all(0 < entry.score <= 1 for entry in fused)
    assert [entry.score for entry in fused] == sorted((e.score for e in fused), reverse=True)
    both = side([(7, 0.5), (8, 0.1)])
    assert fuse(BASE, both, both, [7, 8], [7, 8], top_k=5)[0].score == 1.0  # best in both
    # A side weighing 0 ranks nothing and is not reported as matched.
    alone = fuse(Weights(vector=0.0, keyword=1.0), vectors, keywords, [1, 2], [3], top_k=5)
    assert [(entry.chunk_id, entry.vector_rank) for entry in alone] == [(3, None)]
