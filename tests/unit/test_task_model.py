from datetime import UTC, datetime, timedelta

from libs.tasks.model import Task, TaskStatus
from services.scheduler.engine import _final_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _task(**overrides: object) -> Task:
    values: dict[str, object] = dict(
        id="t", tenant_id="a", user_id="u", kind="echo", name="n", route="echo",
        status=TaskStatus.RUNNING, params={}, concurrency=1, pack_size=1, max_attempts=1,
        continue_on_error=True, item_timeout_s=1, task_timeout_s=None, autostart=False,
        exclusivity_key=None, parent_task_id=None, total=10, done=0, failed=0, cancelled=0,
        inflight=0, current_step=None, error_message=None, result={}, usage={}, paused_ms=0,
        created_at=T0, updated_at=T0, started_at=T0, paused_at=None, completed_at=None,
        deadline_at=None,
    )
    values.update(overrides)
    return Task(**values)  # type: ignore[arg-type]


def test_progress_counts_processed_items_and_is_full_when_finished() -> None:
    assert _task(done=3, failed=1).progress == 40.0
    assert _task(done=8, failed=2, status=TaskStatus.PARTIAL_SUCCESS).progress == 100.0


def test_eta_extrapolates_active_time_and_ignores_pauses() -> None:
    now = T0 + timedelta(seconds=20)
    # 10 s of the 20 were paused: 4 items in 10 active seconds -> 6 left take 15 s
    assert _task(done=4, paused_ms=10_000).eta_seconds(now) == 15
    assert _task(done=0).eta_seconds(now) is None


def test_final_status() -> None:
    assert _final_status(_task(done=10)) == TaskStatus.COMPLETED
    assert _final_status(_task(done=0, failed=10)) == TaskStatus.FAILED
    assert _final_status(_task(done=7, failed=3)) == TaskStatus.PARTIAL_SUCCESS
