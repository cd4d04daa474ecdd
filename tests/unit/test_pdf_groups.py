"""How merged PDF rows are cut into groups (services/docrender/merged.py)."""

from services.docrender.merged import plan_groups


def test_groups_are_bounded_by_rows_pages_and_bytes() -> None:
    one_page = [(1, 1_000)] * 10
    assert plan_groups(one_page, 1, max_rows=4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert plan_groups([(3, 1), (3, 1), (3, 1), (9, 1), (1, 1)], 1, max_pages=6) == [
        [0, 1], [2], [3], [4]]
    assert plan_groups([(1, 600), (1, 600), (1, 100)], 1, max_bytes=1_000) == [[0], [1, 2]]


def test_rows_are_spread_over_the_instances() -> None:
    assert plan_groups([(1, 1)] * 8, 2) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert plan_groups([(1, 1)] * 3, 2) == [[0, 1], [2]]
    assert plan_groups([(1, 1)], 2) == [[0]]
    assert plan_groups([], 2) == []
