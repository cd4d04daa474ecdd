"""The keyword tokenizer shared by indexing and querying: Chinese without spaces, English
words stemmed, function words out of queries, literals PostgreSQL can parse."""

from services.ingester.keywords import (
    document_vector,
    query_expression,
    query_terms,
    rarest,
    terms,
)


def test_chinese_runs_become_bigrams_and_weak_unigrams() -> None:
    assert list(terms("熊猫吃竹")) == [("熊", False), ("熊猫", True), ("猫", False),
                                      ("猫吃", True), ("吃", False), ("吃竹", True),
                                      ("竹", False)]


def test_latin_words_are_folded_lowercased_and_stemmed() -> None:
    assert [lexeme for lexeme, _ in terms("Plants ＲＵＮＮＩＮＧ, e-mail_2")] == [
        "plant", "run", "e", "mail", "2"]


def test_mixed_text_keeps_both_scripts_in_order() -> None:
    assert [lexeme for lexeme, _ in terms("使用API接口")] == [
        "使", "使用", "用", "api", "接", "接口", "口"]


def test_document_vector_has_positions_and_weights() -> None:
    assert document_vector("茶茶 tea") == "'茶':1D,3D '茶茶':2A 'tea':4A"


def test_query_terms_drop_question_words_and_particles() -> None:
    assert query_terms("龙井是哪里产的茶？") == ["龙", "龙井", "井", "产", "茶"]
    assert query_terms("How do green plants store energy?") == [
        "green", "plant", "store", "energi"]
    assert query_terms("有效的对象") == ["有效", "效", "对象", "象"]  # 有/对 start real words


def test_a_query_of_function_words_only_has_no_expression() -> None:
    assert query_expression("what is it? 是什么？") is None
    assert query_expression("茶 tea") == "'茶' | 'tea'"


def test_quotes_and_punctuation_never_reach_the_literal() -> None:
    assert query_expression("it's a \\ test'; DROP") == "'s' | 'test' | 'drop'"
    assert document_vector("'; DROP TABLE x; --") == "'drop':1A 'tabl':2A 'x':3A"


def test_common_terms_are_dropped_within_the_budget_rarest_first() -> None:
    frequency = {"任务": 0.4, "同步": 0.03, "步": 0.3, "同": 0.2}
    assert rarest(["同步", "任务", "失败", "步"], frequency, budget=0.05) == ["失败", "同步"]
    assert rarest(["任务", "步"], frequency, budget=0.05) == ["步"]  # at least one term
    # Unlisted terms count as rare and come first; 同 (0.2) and 任务 (0.4) are over budget.
    assert query_expression("同步任务失败", frequency, budget=0.05) == (
        "'步任' | '任' | '务' | '务失' | '失' | '失败' | '败' | '同步'")
    assert query_expression("同步任务失败", {}, budget=0.05) == query_expression("同步任务失败")
