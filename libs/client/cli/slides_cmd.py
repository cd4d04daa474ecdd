"""`conveyor slides generate|status`: slide batches (seed 001)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec

from libs.client.cli.context import Cli, Exit, api_errors, fail, finish, json_option, pass_cli
from libs.client.cli.follow import follow, outcome
from libs.client.models_more import SlideBatch


def _print_batch(cli: Cli, batch: SlideBatch) -> None:
    cli.out.print(f"[bold]{batch.batch_id}[/] {batch.task_status or batch.status}: "
                  f"{batch.successful} of {batch.total_slides} slides, {batch.failed} failed")
    for slide in batch.results:
        where = slide.image_url or slide.error_message or ""
        cli.out.print(f"  p{slide.page_num} {slide.status:<10} {slide.title[:40]:<40} {where}")


@click.group()
def slides() -> None:
    """Slide images rendered from a deck (seed 001's request body)."""


@slides.command()
@click.argument("deck", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--renderer", type=click.Choice(["local", "image_api"]))
@click.option("--wait", is_flag=True, help="Follow with a progress bar until the batch ends.")
@json_option
@pass_cli
def generate(cli: Cli, deck: Path, renderer: str | None, wait: bool) -> None:
    """Render DECK (JSON: {"slides": [...], "style_prompt": ..., "max_workers": ...})."""
    try:
        body: dict[str, Any] = msgspec.json.decode(deck.read_bytes(), type=dict[str, Any])
    except msgspec.DecodeError as exc:
        fail(Exit.USAGE, f"{deck}: not a JSON object ({exc})")
    if renderer:
        body["renderer"] = renderer
    with api_errors():
        client = cli.client()
        batch = client.slides.generate(body, wait=False)
        if wait and not batch.finished:
            follow(cli, batch.batch_id, f"{batch.total_slides} slides")
        batch = client.slides.status(batch.batch_id) if wait else batch
    cli.emit(batch, lambda: _print_batch(cli, batch) if wait else cli.out.print(
        f"{batch.batch_id}: {batch.total_slides} slides queued; "
        f"`conveyor tasks watch {batch.batch_id}`"))
    if wait:
        with api_errors():
            final = client.tasks.get(batch.batch_id)
        finish(final.status, outcome(final))


@slides.command()
@click.argument("batch_id")
@json_option
@pass_cli
def status(cli: Cli, batch_id: str) -> None:
    """A batch's progress and per-slide results."""
    with api_errors():
        batch = cli.client().slides.status(batch_id)
    cli.emit(batch, lambda: _print_batch(cli, batch))
