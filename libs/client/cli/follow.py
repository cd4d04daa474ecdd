"""Following a task until it ends: live over the WebSocket stream (polling when the stream is
unavailable or quiet), a progress bar with rate and ETA on stderr, and Ctrl-C that asks
whether to cancel the task."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import click
import msgspec
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from libs.client import Client, TransportError
from libs.client.cli.context import Cli, Exit, fail
from libs.client.cli.i18n import tr
from libs.client.models import FINISHED, StreamEvent, Task

# Without any event for this long the task is read once (an event may have been lost) and the
# stream re-opened; events carry full snapshots, so nothing is missed by reconnecting.
IDLE_S = 5.0
POLL_S = 1.0


@dataclass
class Snapshot:
    status: str
    total: int
    done: int
    failed: int
    cancelled: int = 0
    stage: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def settled(self) -> int:
        return self.done + self.failed + self.cancelled


def from_event(event: StreamEvent) -> Snapshot:
    p = event.payload
    return Snapshot(p.status or "running", p.total, p.done, p.failed, p.cancelled, p.stage)


def from_task(task: Task) -> Snapshot:
    return Snapshot(task.status, task.total_items, task.completed_items, task.failed_items,
                    task.cancelled_items, task.current_step)


def snapshots(client: Client, task_id: str,
              on_event: Callable[[StreamEvent], None] | None = None) -> Iterator[Snapshot]:
    """Where the task stands, each time that changes, until it has finished."""
    while True:
        try:
            for event in client.stream.task_events(task_id, idle_timeout_s=IDLE_S):
                if on_event:
                    on_event(event)
                yield from_event(event)
                if event.terminal:
                    return
        except TimeoutError:
            pass  # quiet: read the truth once, then listen again
        except TransportError:
            time.sleep(POLL_S)  # no stream: poll
        snap = from_task(client.tasks.get(task_id))
        yield snap
        if snap.finished:
            return


class RateColumn(ProgressColumn):
    """Items per second: rich's moving estimate while running, the average once finished."""

    def render(self, task: Any) -> Text:
        speed = task.speed
        if task.finished and task.elapsed:
            speed = task.completed / task.elapsed
        return Text(f"{speed:,.1f} items/s" if speed else "-- items/s", style="cyan")


def progress_bar(cli: Cli) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), RateColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        TextColumn("{task.fields[stage]}", style="dim"),
        console=cli.err, transient=False, refresh_per_second=8,
    )


def follow(cli: Cli, task_id: str, label: str,
           on_event: Callable[[StreamEvent], None] | None = None) -> Task:
    """Show the task's progress until it ends; answers the final task. Ctrl-C asks whether to
    cancel it (then exit 4), or leaves it running (exit 130)."""
    client = cli.client()
    try:
        with progress_bar(cli) as bar:
            # The id leads the line: what `tasks watch` / `tasks cancel` need, in full.
            description = f"{task_id} {tr(label)}".rstrip()
            row = bar.add_task(description, total=None, stage="")
            for snap in snapshots(client, task_id, on_event):
                bar.update(row, total=snap.total or None, completed=snap.settled,
                           stage=snap.stage or snap.status)
    except KeyboardInterrupt:
        _interrupted(cli, client, task_id)
    return client.tasks.get(task_id)


def _interrupted(cli: Cli, client: Client, task_id: str) -> None:
    try:
        cancel = click.confirm("\n" + tr(f"Cancel task {task_id}?"), default=False, err=True)
    except (click.Abort, EOFError, KeyboardInterrupt):
        cancel = False
    if not cancel:
        fail(Exit.INTERRUPTED, f"stopped waiting; task {task_id} keeps running "
                               f"(`conveyor tasks watch {task_id}`)")
    task = client.tasks.cancel(task_id)
    cli.emit(task, lambda: None)
    fail(Exit.CANCELLED, f"task {task_id} cancelled at your request "
                         f"({task.completed_items} of {task.total_items} items done)")


def outcome(task: Task) -> str:
    """Why a task did not simply complete, in one line for stderr."""
    reasons = []
    if task.failed_items:
        reasons.append(f"{task.failed_items} of {task.total_items} items failed")
    if task.cancelled_items:
        reasons.append(f"{task.cancelled_items} cancelled")
    if task.error_message:
        reasons.append(task.error_message)
    head = f"task {task.task_id} {task.status}"
    return f"{head}: {'; '.join(reasons)}" if reasons else head


def event_line(event: StreamEvent) -> str:
    return msgspec.json.encode(event).decode()
