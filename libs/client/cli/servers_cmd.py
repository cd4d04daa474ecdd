"""`conveyor servers ls|register` and `conveyor batch process|status|ls|cancel` (seed 004)."""

from __future__ import annotations

import click

from libs.client.cli.context import Cli, api_errors, finish, json_option, pass_cli
from libs.client.cli.follow import follow, outcome
from libs.client.models_more import ServerBatchTask


@click.group()
def servers() -> None:
    """Registered batch servers (local docrender instances and remote ones)."""


@servers.command("ls")
@json_option
@pass_cli
def ls(cli: Cli) -> None:
    """Every registered server with its status."""
    with api_errors():
        found = cli.client().servers.list()

    cli.emit_table(found, ("NAME", "TYPE", "STATUS", "ENABLED", "BATCH", "TASK", "WORKFLOWS",
                           "URL"),
                   ((s.name, s.type, s.status, "yes" if s.enabled else "no", str(s.batch_size),
                     s.current_task_id or "", ", ".join(s.workflows), s.url) for s in found))


@servers.command()
@click.argument("name")
@click.argument("url")
@click.option("--type", "type_", type=click.Choice(["remote", "local"]), default="remote",
              show_default=True)
@click.option("--batch-size", type=click.IntRange(1))
@click.option("--disabled", is_flag=True, help="Register it disabled.")
@json_option
@pass_cli
def register(cli: Cli, name: str, url: str, type_: str, batch_size: int | None,
             disabled: bool) -> None:
    """Register a server (admin)."""
    with api_errors():
        server = cli.client().servers.register(name, url, type_=type_, enabled=not disabled,
                                               batch_size=batch_size)
    cli.emit(server, lambda: cli.out.print(f"{server.name} {server.status} {server.url}"))


def _print(cli: Cli, task: ServerBatchTask) -> None:
    cli.out.print(f"[bold]{task.task_id}[/] {task.engine_status or task.status} "
                  f"{task.processed_files}/{task.total_files} files, {task.failed_files} failed "
                  f"on {task.server_name} ({task.workflow_name}) -> {task.output_root}: "
                  f"{task.message}")


@click.group()
def batch() -> None:
    """Workflow batches over your files on one server."""


@batch.command()
@click.option("--workflow", required=True, help="e.g. docx-to-pdf, image-thumbnail")
@click.option("--folder", "folders", multiple=True, required=True,
              help="A target folder of your files (repeat for several).")
@click.option("--server", required=True, help="The server to run on.")
@click.option("--output-root", required=True, help="Where results are written.")
@click.option("--keyword", "keywords", multiple=True,
              help="Only subfolders whose name contains one of these.")
@click.option("--check", is_flag=True, help="Only check the server could run it now.")
@click.option("--wait", is_flag=True, help="Follow with a progress bar until it ends.")
@json_option
@pass_cli
def process(cli: Cli, workflow: str, folders: tuple[str, ...], server: str, output_root: str,
            keywords: tuple[str, ...], check: bool, wait: bool) -> None:
    """Run WORKFLOW over the files of the folders on SERVER."""
    args = (workflow, list(folders), server, output_root, list(keywords))
    with api_errors():
        client = cli.client()
        if check:
            found = client.batch.check(*args)
            cli.emit(found, lambda: cli.out.print(
                f"{found.server_name}: {found.message}, {found.total_files} files"))
            return
        task = client.batch.process(*args)
        if wait:
            final = follow(cli, task.task_id, f"{workflow} on {server}")
            task = client.batch.get(task.task_id)
    cli.emit(task, lambda: _print(cli, task))
    if wait:
        finish(final.status, outcome(final))


@batch.command()
@click.argument("task_id")
@json_option
@pass_cli
def status(cli: Cli, task_id: str) -> None:
    """A batch task's status."""
    with api_errors():
        task = cli.client().batch.get(task_id)
    cli.emit(task, lambda: _print(cli, task))


@batch.command("ls")
@json_option
@pass_cli
def list_batches(cli: Cli) -> None:
    """Your batch tasks, newest first."""
    with api_errors():
        found = cli.client().batch.list()

    def human() -> None:
        for task in found:
            _print(cli, task)

    cli.emit(found, human)
