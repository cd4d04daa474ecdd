"""Settles the task of a work message that reached a dead-letter queue, at once.

A message is dead-lettered when a worker refuses it as permanent or when the broker's delivery
limit is reached (the worker crashed or gave up on it every time). Waiting for the item or
finalize lease to run out would leave the task `running`/`finalizing` for up to the lease
(30 minutes for a ZIP), and then retry work that already failed five times. Instead its items
fail permanently with the reason, and a dead-lettered finalize fails its task. Both go through
the engine's usual paths, which apply only to what is still in flight at that attempt, so a
late or duplicate dead letter changes nothing."""

from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from libs.logging import get_logger
from libs.messaging.topology import DELIVERY_LIMIT
from proto.work import FinalizeTask, ItemResult, Outcome, WorkMessage
from services.scheduler.engine import Engine

log = get_logger(__name__)

_REASONS = {
    "delivery_limit": f"delivered more than {DELIVERY_LIMIT} times without an answer (the "
                      "worker crashed or stopped each time)",
    "rejected": "refused by the worker as impossible to process",
    "expired": "expired in the queue",
}


def dead_letter_reason(message: AbstractIncomingMessage) -> str:
    """Why the broker dead-lettered `message`, in words, from its `x-death` header."""
    headers = message.headers or {}
    deaths: Any = headers.get("x-death")
    death = deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) \
        else {}
    reason = str(death.get("reason") or headers.get("x-first-death-reason") or "unknown")
    template = _REASONS.get(reason, "dead-lettered ({reason})")
    return "work message dead-lettered: " + template.format(reason=reason)


class DeadLetterSettler:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def __call__(self, work: WorkMessage, message: AbstractIncomingMessage) -> None:
        reason = dead_letter_reason(message)
        log.warning("work.dead_lettered", task_id=work.task_id, reason=reason,
                    message_type=type(work).__name__)
        if isinstance(work, FinalizeTask):
            await self._engine.end_finalize(work.task_id, work.attempt, state="failed",
                                            error=f"finalization failed: {reason}")
            return
        await self._engine.apply_results([
            ItemResult(task_id=work.task_id, seq=item.seq, attempt=item.attempt,
                       outcome=Outcome.FAILED, error=reason, retryable=False)
            for item in work.items
        ])
