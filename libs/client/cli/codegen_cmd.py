"""`conveyor generate "需求…" --package com.example.shop --wait -o app.zip`: code generation
(seed 002), followed agent by agent."""

from __future__ import annotations

from pathlib import Path

import click

from libs.client.cli.context import Cli, api_errors, finish, json_option, pass_cli
from libs.client.codegen import Generation


def _print(cli: Cli, generation: Generation) -> None:
    cli.out.print(f"[bold]{generation.task_id}[/] {generation.status} "
                  f"({generation.status_description}) {generation.progress}%")
    for agent in generation.agents:
        detail = agent.error_message or agent.result_summary or ""
        cli.out.print(f"  {agent.agent_type:<9} {agent.status:<10} {detail}")
    if generation.quality_score is not None:
        cli.out.print(f"  quality score {generation.quality_score}")
    if generation.preview_url:
        cli.out.print(f"  preview {generation.preview_url}")
    if generation.error_message:
        cli.out.print(f"  [red]{generation.error_message}[/]")


@click.command()
@click.argument("requirement")
@click.option("--package", "package_name", help="Kotlin package, e.g. com.example.shop.")
@click.option("--threshold", type=click.IntRange(0, 100), help="Quality threshold (default 70).")
@click.option("--skip-validation", is_flag=True)
@click.option("--preview", is_flag=True, help="Also make an HTML preview (previewUrl).")
@click.option("--wait", is_flag=True, help="Poll every 2 s until the generation ends.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="With --wait: save the project's ZIP here.")
@json_option
@pass_cli
def generate(cli: Cli, requirement: str, package_name: str | None, threshold: int | None,
             skip_validation: bool, preview: bool, wait: bool, output: Path | None) -> None:
    """Generate a Kotlin application from REQUIREMENT (Chinese or English)."""
    if output is not None and not wait:
        raise click.UsageError("-o/--output needs --wait")
    with api_errors():
        client = cli.client()
        task_id = client.codegen.create(requirement, package_name=package_name,
                                        quality_threshold=threshold,
                                        skip_validation=skip_validation, preview=preview)
        if not wait:
            cli.emit({"taskId": task_id}, lambda: cli.out.print(
                f"{task_id}: queued; `conveyor generate-status {task_id}`"))
            return
        seen: list[str] = []

        def progress(generation: Generation) -> None:
            if not cli.json and (not seen or seen[-1] != generation.status):
                seen.append(generation.status)
                click.echo(f"{generation.status_description} ({generation.progress}%)",
                           err=True)

        generation = client.codegen.wait(task_id, on_poll=progress)
        saved = client.codegen.download(generation, output) \
            if output is not None and generation.status == "completed" else None
    cli.emit(generation, lambda: _print(cli, generation))
    if saved is not None and not cli.json:
        cli.out.print(f"saved {output} ({saved:,} bytes)")
    finish(generation.status, generation.error_message or generation.status)


@click.command("generate-status")
@click.argument("task_id")
@json_option
@pass_cli
def generate_status(cli: Cli, task_id: str) -> None:
    """A code generation's status, agent by agent."""
    with api_errors():
        generation = cli.client().codegen.status(task_id)
    cli.emit(generation, lambda: _print(cli, generation))
