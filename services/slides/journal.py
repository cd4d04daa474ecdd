"""Per-slide structured log lines, by session (the seed's `logs/sessions/{session_id}_*.json`):
each line goes to the `slide_logs` table, where the gateway serves it by session, and to the
service's own JSON log with the same event names (`slide_completed`, `batch_generate_complete`,
...) and fields (`details`, `summary`), so the seed's grep/jq recipes work on it too.

A log line is diagnostics, not state: failing to write one never fails a slide."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from services.slides import repository as repo

log = get_logger("slides.session")


class SlideJournal:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def write(self, *, session_id: str, task_id: str, event: str, level: str = "info",
                    seq: int | None = None, attempt: int | None = None,
                    details: dict[str, Any] | None = None,
                    summary: dict[str, Any] | None = None) -> None:
        body = {**(details or {}), **({"summary": summary} if summary else {})}
        fields = {"details": details} if details else {}
        if summary:
            fields["summary"] = summary
        log.log(_LEVELS.get(level, 20), event, session_id=session_id, batch_id=task_id,
                slide_seq=seq, attempt=attempt, **fields)
        try:
            async with self._db.begin() as conn:
                await repo.insert_log(conn, session_id=session_id, task_id=task_id, event=event,
                                      level=level, details=body, seq=seq, attempt=attempt)
        except Exception as exc:
            log.warning("slides.journal.write_failed", error=repr(exc), line_event=event)


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
