"""The one table of allowed state changes: tasks, their items, their finalize step and their
stages.

Every statement that changes one of these states takes its source states and its target from
here (`*_sources`, `*_target`): gateway commands, the scheduler's dispatch, settle, finalize
and finish, the sweep and the workers' claims. A change not in this table cannot be written."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from libs.tasks.model import UNFINISHED, ItemStatus, TaskStatus

S = TypeVar("S")


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

class FinalizeState(StrEnum):
    """A task's last step (`tasks.finalize_state`; NULL: not started, or to be sent again)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FinalizeAction(StrEnum):
    START = "start"
    END = "end"  # its worker answered, or its lease ran out for the last time
    RETRY = "retry"  # a retryable failure: sent again by the next advance


class StageStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class StageAction(StrEnum):
    OPEN = "open"
    PROGRESS = "progress"
    CLOSE = "close"


_F, _S = FinalizeState, StageStatus

FINALIZE_TRANSITIONS: Mapping[FinalizeAction, Transition[FinalizeState | None]] = {
    FinalizeAction.START: Transition(frozenset({None}), frozenset({_F.RUNNING})),
    FinalizeAction.END: Transition(frozenset({_F.RUNNING}), frozenset({_F.DONE, _F.FAILED})),
    FinalizeAction.RETRY: Transition(frozenset({_F.RUNNING}), frozenset({None})),
}

STAGE_TRANSITIONS: Mapping[StageAction, Transition[StageStatus]] = {
    StageAction.OPEN: Transition(frozenset({_S.PENDING}), frozenset({_S.RUNNING})),
    StageAction.PROGRESS: Transition(frozenset({_S.RUNNING}), frozenset({_S.RUNNING})),
    StageAction.CLOSE: Transition(
        frozenset({_S.PENDING, _S.RUNNING}),
        frozenset({_S.COMPLETED, _S.FAILED, _S.CANCELLED, _S.SKIPPED})),
}

# A stage in one of these states changes no more.
CLOSED_STAGES = frozenset(StageStatus) - STAGE_TRANSITIONS[StageAction.CLOSE].sources

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


def item_target(action: ItemAction, target: ItemStatus | None = None) -> str:
    """The SQL literal of the state `action` takes an item to (`target` where there are
    several), checked against the table."""
    return _literal(ITEM_TRANSITIONS[action], action, target)


def stage_target(action: StageAction, target: StageStatus | None = None) -> str:
    return _literal(STAGE_TRANSITIONS[action], action, target)


def finalize_sources(action: FinalizeAction) -> str:
    """A SQL condition on `finalize_state` matching the states `action` may start from."""
    sources = FINALIZE_TRANSITIONS[action].sources
    states = [state for state in sources if state is not None]
    conditions = (["finalize_state IS NULL"] if None in sources else []) + (
        [f"finalize_state IN {sql_states(states)}"] if states else [])
    return "(" + " OR ".join(conditions) + ")"


def finalize_target(action: FinalizeAction, target: str | None) -> FinalizeState | None:
    """`target` as a finalize state, if `action` may end in it (a programming error
    otherwise)."""
    state = FinalizeState(target) if target is not None else None
    if state not in FINALIZE_TRANSITIONS[action].targets:
        raise ValueError(f"finalize {action} cannot end in {target}")
    return state


def _literal(transition: Transition[S], action: StrEnum, target: S | None) -> str:
    if target is None:
        (target,) = transition.targets
    if target not in transition.targets or not isinstance(target, StrEnum):
        raise ValueError(f"{action} cannot end in {target}")
    return f"'{target.value}'"


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
