"""The table of allowed state changes: its shape, and the checks built on it."""

import pytest

from libs.tasks.model import FINISHED, UNFINISHED, ItemStatus, TaskStatus
from libs.tasks.transitions import (
    ITEM_TRANSITIONS,
    TASK_TRANSITIONS,
    InvalidTransition,
    ItemAction,
    TaskAction,
    check_target,
    check_task,
    item_sources,
    sql_states,
)


def test_finished_tasks_never_change() -> None:
    for action, transition in TASK_TRANSITIONS.items():
        assert not transition.sources & FINISHED, action


def test_every_state_is_reachable_and_every_action_listed() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskAction)
    assert set(ITEM_TRANSITIONS) == set(ItemAction)
    reached = {TaskStatus.PENDING} | {t for tr in TASK_TRANSITIONS.values() for t in tr.targets}
    assert reached == set(TaskStatus)
    items = {ItemStatus.PENDING} | {t for tr in ITEM_TRANSITIONS.values() for t in tr.targets}
    assert items == set(ItemStatus)


def test_settled_items_change_only_when_an_artifact_is_lost() -> None:
    settled = {ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.CANCELLED}
    for action, transition in ITEM_TRANSITIONS.items():
        if action is ItemAction.LOSE:
            assert (transition.sources, transition.targets) == (
                {ItemStatus.DONE}, {ItemStatus.FAILED})
        else:
            assert not transition.sources & settled, action


def test_checks() -> None:
    check_task("t", TaskStatus.RUNNING, TaskAction.PAUSE)
    for status in UNFINISHED:
        check_task("t", status, TaskAction.CANCEL)
    with pytest.raises(InvalidTransition) as raised:
        check_task("t", TaskStatus.PAUSED, TaskAction.PAUSE)
    assert (raised.value.task_id, raised.value.status, raised.value.action) == (
        "t", TaskStatus.PAUSED, TaskAction.PAUSE)
    assert check_target(TaskAction.FINISH, TaskStatus.PARTIAL_SUCCESS) is TaskStatus.PARTIAL_SUCCESS
    with pytest.raises(ValueError):
        check_target(TaskAction.FINISH, TaskStatus.CANCELLED)


def test_sql_lists_come_from_the_table() -> None:
    assert item_sources(ItemAction.SETTLE) == "('dispatched', 'processing')"
    assert sql_states(UNFINISHED) == "('paused', 'pending', 'running')"


def test_targets_come_from_the_table_and_wrong_ones_are_refused() -> None:
    from libs.tasks.transitions import (
        CLOSED_STAGES,
        FinalizeAction,
        FinalizeState,
        StageAction,
        StageStatus,
        finalize_sources,
        finalize_target,
        item_target,
        stage_target,
    )

    assert item_target(ItemAction.DISPATCH) == "'dispatched'"
    assert item_target(ItemAction.SETTLE, ItemStatus.PENDING) == "'pending'"
    with pytest.raises(ValueError, match="cannot end in"):
        item_target(ItemAction.SETTLE, ItemStatus.CANCELLED)
    with pytest.raises(ValueError):
        item_target(ItemAction.SETTLE)  # several targets: say which
    assert stage_target(StageAction.CLOSE, StageStatus.SKIPPED) == "'skipped'"
    assert StageStatus.RUNNING not in CLOSED_STAGES and StageStatus.COMPLETED in CLOSED_STAGES
    assert finalize_sources(FinalizeAction.START) == "(finalize_state IS NULL)"
    assert finalize_sources(FinalizeAction.END) == "(finalize_state IN ('running'))"
    assert finalize_target(FinalizeAction.END, "done") is FinalizeState.DONE
    assert finalize_target(FinalizeAction.RETRY, None) is None
    with pytest.raises(ValueError):
        finalize_target(FinalizeAction.START, "done")
