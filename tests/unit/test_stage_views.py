"""Stages derived from the task: counts, status and progress stay true through pause, cancel,
failure and retry, whatever the stored rows last said."""

from datetime import UTC, datetime

from libs.tasks.model import Stage, TaskStatus, task_from_mapping
from libs.tasks.progress import stage_views
from tests.unit.test_task_model import T0, _task


def _stale(name: str, status: str = "running", summary: str | None = None) -> Stage:
    return Stage(position=0 if name == "process" else 1, name=name, label=name, status=status,
                 progress=99, started_at=T0, completed_at=None, summary=summary,
                 error_message=None, metadata={})


STALE = [_stale("process", summary="299 done, 0 failed of 300"), _stale("finalize", "pending")]
DONE_AT = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def _views(**task: object) -> dict[str, Stage]:
    return {s.name: s for s in stage_views(_task(**task), STALE)}


def test_a_finished_batch_counts_every_row() -> None:
    views = _views(status=TaskStatus.COMPLETED, total=300, done=300, finalize=True,
                   finalize_state="done", completed_at=DONE_AT)
    assert views["process"].summary == "300 done, 0 failed of 300"
    assert (views["process"].status, views["process"].progress) == ("completed", 100)
    assert (views["finalize"].status, views["finalize"].progress) == ("completed", 100)
    assert views["process"].completed_at == DONE_AT


def test_one_failed_row_is_counted() -> None:
    views = _views(status=TaskStatus.PARTIAL_SUCCESS, total=30, done=29, failed=1,
                   finalize=True, finalize_state="done", completed_at=DONE_AT)
    assert views["process"].summary == "29 done, 1 failed of 30"


def test_pause_shows_paused_and_resume_running_again() -> None:
    paused = _views(status=TaskStatus.PAUSED, total=10, done=4, finalize=True)
    assert (paused["process"].status, paused["process"].progress) == ("paused", 40)
    assert paused["process"].completed_at is None
    assert paused["finalize"].status == "pending"
    resumed = _views(status=TaskStatus.RUNNING, total=10, done=4, finalize=True)
    assert resumed["process"].status == "running"


def test_cancel_closes_every_open_stage() -> None:
    views = _views(status=TaskStatus.CANCELLED, total=10, done=4, cancelled=6, finalize=True,
                   completed_at=DONE_AT)
    assert views["process"].status == "cancelled"
    assert views["process"].summary == "4 done, 0 failed, 6 cancelled of 10"
    assert views["process"].completed_at is not None
    assert views["finalize"].status == "cancelled"
    during_zip = _views(status=TaskStatus.CANCELLED, total=10, done=10, finalize=True,
                        finalize_state="running", completed_at=DONE_AT)
    assert (during_zip["process"].status, during_zip["finalize"].status) == (
        "completed", "cancelled")


def test_failure_fails_the_items_stage_or_the_last_step() -> None:
    stopped = _views(status=TaskStatus.FAILED, total=10, done=2, failed=1, cancelled=7,
                     continue_on_error=False, finalize=True, completed_at=DONE_AT)
    assert (stopped["process"].status, stopped["finalize"].status) == ("failed", "skipped")
    zip_failed = _views(status=TaskStatus.FAILED, total=10, done=10, finalize=True,
                        finalize_state="failed", completed_at=DONE_AT)
    assert (zip_failed["process"].status, zip_failed["finalize"].status) == (
        "completed", "failed")


def test_a_retry_task_counts_its_own_items() -> None:
    child = _views(status=TaskStatus.RUNNING, total=3, done=1, parent_task_id="p", finalize=True)
    assert child["process"].summary == "1 done, 0 failed of 3"
    assert child["process"].status == "running"
    settled = _views(status=TaskStatus.RUNNING, total=3, done=3, finalize=True,
                     finalize_state="running")
    assert (settled["process"].status, settled["finalize"].status) == ("completed", "running")


def test_a_finished_task_has_no_current_step() -> None:
    values = {f: getattr(_task(), f) for f in _task().__struct_fields__}
    values.update(status="completed", current_step="正在向量化 (3/4)")
    assert task_from_mapping(dict(values)).current_step is None
    values.update(status="running")
    assert task_from_mapping(dict(values)).current_step == "正在向量化 (3/4)"
