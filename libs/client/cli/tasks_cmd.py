"""`conveyor tasks ls|show|item|watch|start|pause|resume|cancel|retry`."""

from __future__ import annotations

import sys

import click
import msgspec
from rich.table import Table

from libs.client.cli.context import Cli, add_column, api_errors, finish, json_option, pass_cli
from libs.client.cli.follow import event_line, follow, outcome
from libs.client.models import StreamEvent, Task

STATUSES = ["pending", "running", "paused", "completed", "partial_success", "failed",
            "cancelled"]


def task_table(tasks: list[Task]) -> Table:
    rows = [[t.task_id, t.kind, t.status, f"{t.progress}%",
             f"{t.completed_items}/{t.total_items}", str(t.failed_items),
             t.created_at or "", t.task_name or ""] for t in tasks]
    table = Table(box=None)
    for index, column in enumerate(("ID", "KIND", "STATUS", "PROGRESS", "DONE/TOTAL", "FAILED",
                                    "CREATED", "NAME")):
        add_column(table, column, [row[index] for row in rows])
    for row in rows:
        table.add_row(*row)
    return table


def print_task(cli: Cli, task: Task) -> None:
    cli.out.print(f"[bold]{task.task_id}[/]  {task.kind}  {task.status}  {task.progress}%  "
                  f"{task.completed_items}/{task.total_items} done, {task.failed_items} failed, "
                  f"{task.cancelled_items} cancelled")
    if task.current_step:
        cli.out.print(f"  step: {task.current_step}")
    if task.estimated_remaining_seconds is not None and not task.finished:
        cli.out.print(f"  eta: {task.estimated_remaining_seconds:.0f} s")
    if task.error_message:
        cli.out.print(f"  error: {task.error_message}")
    for stage in task.agents:
        cli.out.print(f"  stage {stage.agent_type}: {stage.status}")


@click.group()
def tasks() -> None:
    """Tasks of every kind: list, inspect, follow, control."""


@tasks.command("ls")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--kind", help="echo, documents, slides, kb_sync, server_batch, ...")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@click.option("--page-size", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--search", "-q", help="An id prefix, or part of the name.")
@json_option
@pass_cli
def ls(cli: Cli, status: str | None, kind: str | None, page: int, page_size: int,
       search: str | None) -> None:
    """The caller's tasks, newest first."""
    with api_errors():
        found = cli.client().tasks.list(page=page, page_size=page_size, status=status, kind=kind,
                                        search=search)

    def human() -> None:
        cli.out.print(task_table(found.tasks))
        cli.out.print(f"page {found.page_num}/{max(found.pages, 1)}, {found.total} tasks")

    cli.emit(found, human)


@tasks.command()
@click.argument("task_id")
@click.option("--items", "show_items", is_flag=True, help="Also list the first 100 items.")
@json_option
@pass_cli
def show(cli: Cli, task_id: str, show_items: bool) -> None:
    """A task's status, stages, usage (and items)."""
    with api_errors():
        client = cli.client()
        task_id = cli.task_id(task_id)
        task = client.tasks.get(task_id)
        items = client.tasks.items(task_id).items if show_items else []
    if cli.json:
        cli.emit({"task": task, "items": items} if show_items else task, lambda: None)
        return
    print_task(cli, task)
    for item in items:
        cli.out.print(f"  #{item.seq} {item.status} attempt {item.attempt}"
                      + (f" error: {item.error}" if item.error else ""))


@tasks.command()
@click.argument("task_id")
@click.argument("seq", type=click.IntRange(0))
@json_option
@pass_cli
def item(cli: Cli, task_id: str, seq: int) -> None:
    """One item: its input, status, attempts, result and error."""
    with api_errors():
        found = cli.client().tasks.item(cli.task_id(task_id), seq)

    def human() -> None:
        cli.out.print(f"[bold]{found.task_id} #{found.seq}[/]  {found.status}  "
                      f"attempt {found.attempt}"
                      + (f"  {found.duration_ms} ms" if found.duration_ms is not None else ""))
        if found.parent_task_id:
            cli.out.print(f"  retry of task {found.parent_task_id}")
        cli.out.print("  input: " + msgspec.json.encode(found.input).decode(), soft_wrap=True)
        if found.result is not None:
            cli.out.print("  result: " + msgspec.json.encode(found.result).decode(),
                          soft_wrap=True)
        if found.error:
            cli.out.print(f"  error: {found.error}", soft_wrap=True)

    cli.emit(found, human)


@tasks.command()
@click.argument("task_id")
@json_option
@pass_cli
def watch(cli: Cli, task_id: str) -> None:
    """Follow a task live until it ends; the exit status says how it ended.
    With --json, each stream event is printed as a JSON line."""

    def on_event(event: StreamEvent) -> None:
        sys.stdout.write(event_line(event) + "\n")
        sys.stdout.flush()

    with api_errors():
        task_id = cli.task_id(task_id)
        final = follow(cli, task_id, "", on_event if cli.json else None)
    if not cli.json:
        print_task(cli, final)
    finish(final.status, outcome(final))


def _command(action: str, help_text: str) -> None:
    @tasks.command(action, help=help_text)
    @click.argument("task_id")
    @json_option
    @pass_cli
    def run(cli: Cli, task_id: str) -> None:
        with api_errors():
            task = cli.client().tasks.command(cli.task_id(task_id), action)
        cli.emit(task, lambda: print_task(cli, task))


_command("start", "Start a task created without auto-start.")
_command("pause", "Pause: no item starts until resumed (items in flight finish).")
_command("resume", "Resume a paused task.")
_command("cancel", "Cancel: unfinished items are cancelled; finished ones stay.")


@tasks.command()
@click.argument("task_id")
@click.option("--wait", is_flag=True, help="Follow the new task until it ends.")
@json_option
@pass_cli
def retry(cli: Cli, task_id: str, wait: bool) -> None:
    """A new task for the failed items of a finished one."""
    with api_errors():
        created = cli.client().tasks.retry_failed(cli.task_id(task_id))
        if not wait:
            cli.emit(created, lambda: cli.out.print(
                f"{created.new_task_id}: retrying {created.retry_item_count} items"))
            return
        final = follow(cli, created.new_task_id, "retry")
    cli.emit(final, lambda: print_task(cli, final))
    finish(final.status, outcome(final))
