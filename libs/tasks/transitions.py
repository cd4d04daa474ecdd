"""The one table of allowed state changes, for tasks and for their items.

Every statement that changes a task's or an item's status takes its source states (and checks
its target) from here: gateway commands, the scheduler's dispatch, settle and finish, the sweep
and the workers' claims. A change not in this table cannot be written."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from libs.tasks.model import UNFINISHED, ItemStatus, TaskStatus

S = TypeVar("S", TaskStatus, ItemStatus)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S]):
    sources: frozenset[S]
    targets: frozenset[S]


class TaskAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    FAIL = "fail"  # a timeout, or a failed item of a task that stops at its first failure
    FINISH = "finish"  # every item settled (and the finalize step, if any, ended)


class ItemAction(StrEnum):
    DISPATCH = "dispatch"
    UNDISPATCH = "undispatch"  # the dispatch could not be published: as if it never happened
    CLAIM = "claim"  # a worker starts it
    RECLAIM = "reclaim"  # a redelivered message re-claims what a dead worker had claimed
    PROGRESS = "progress"  # a progress report extends the lease
    SETTLE = "settle"  # done, failed, or back to pending for a retry (also an expired lease)
    RELEASE = "release"  # the worker could not claim it (task paused): back to pending
    CANCEL = "cancel"  # its task ended first
    LOSE = "lose"  # done, but its artifact is gone (found by the finalize step)


_T, _I = TaskStatus, ItemStatus

TASK_TRANSITIONS: Mapping[TaskAction, Transition[TaskStatus]] = {
    TaskAction.START: Transition(frozenset({_T.PENDING}), frozenset({_T.RUNNING})),
    TaskAction.PAUSE: Transition(frozenset({_T.RUNNING}), frozenset({_T.PAUSED})),
    TaskAction.RESUME: Transition(frozenset({_T.PAUSED}), frozenset({_T.RUNNING})),
    TaskAction.CANCEL: Transition(UNFINISHED, frozenset({_T.CANCELLED})),
    TaskAction.FAIL: Transition(UNFINISHED, frozenset({_T.FAILED})),
    TaskAction.FINISH: Transition(
        frozenset({_T.RUNNING}), frozenset({_T.COMPLETED, _T.PARTIAL_SUCCESS, _T.FAILED})
    ),
}

ITEM_TRANSITIONS: Mapping[ItemAction, Transition[ItemStatus]] = {
    ItemAction.DISPATCH: Transition(frozenset({_I.PENDING}), frozenset({_I.DISPATCHED})),
    ItemAction.UNDISPATCH: Transition(frozenset({_I.DISPATCHED}), frozenset({_I.PENDING})),
    ItemAction.CLAIM: Transition(frozenset({_I.DISPATCHED}), frozenset({_I.PROCESSING})),
    ItemAction.RECLAIM: Transition(frozenset({_I.PROCESSING}), frozenset({_I.PROCESSING})),
    ItemAction.PROGRESS: Transition(frozenset({_I.PROCESSING}), frozenset({_I.PROCESSING})),
    ItemAction.SETTLE: Transition(
        frozenset({_I.DISPATCHED, _I.PROCESSING}), frozenset({_I.DONE, _I.FAILED, _I.PENDING})
    ),
    ItemAction.RELEASE: Transition(frozenset({_I.DISPATCHED}), frozenset({_I.PENDING})),
    ItemAction.CANCEL: Transition(
        frozenset({_I.PENDING, _I.DISPATCHED, _I.PROCESSING}), frozenset({_I.CANCELLED})
    ),
    ItemAction.LOSE: Transition(frozenset({_I.DONE}), frozenset({_I.FAILED})),
}

# Items start (are dispatched and claimed) only while their task is in one of these states:
# this is what makes a committed pause or cancel exact.
ITEMS_START_WHILE = frozenset({_T.RUNNING})


class InvalidTransition(Exception):
    def __init__(self, task_id: str, status: TaskStatus, action: TaskAction) -> None:
        super().__init__(f"cannot {action} a task that is {status}")
        self.task_id = task_id
        self.status = status
        self.action = action


def sql_states(states: Iterable[StrEnum]) -> str:
    """A SQL list literal of states, e.g. `('dispatched', 'processing')`. The values are this
    module's enum constants (never input), and a literal keeps each statement's plan the same
    as the hand-written list it replaces."""
    return "(" + ", ".join(f"'{state.value}'" for state in sorted(states)) + ")"


def task_sources(action: TaskAction) -> str:
    return sql_states(TASK_TRANSITIONS[action].sources)


def item_sources(action: ItemAction) -> str:
    return sql_states(ITEM_TRANSITIONS[action].sources)


def check_task(task_id: str, status: TaskStatus, action: TaskAction) -> None:
    """Raise `InvalidTransition` unless `action` may take a task from `status`."""
    if status not in TASK_TRANSITIONS[action].sources:
        raise InvalidTransition(task_id, status, action)


def check_target(action: TaskAction, target: TaskStatus) -> TaskStatus:
    """`target`, if `action` may end in it (a programming error otherwise)."""
    if target not in TASK_TRANSITIONS[action].targets:
        raise ValueError(f"{action} cannot end in {target}")
    return target


def only_target(action: TaskAction) -> TaskStatus:
    """The state `action` leads to, for actions with a single one."""
    (target,) = TASK_TRANSITIONS[action].targets
    return target
