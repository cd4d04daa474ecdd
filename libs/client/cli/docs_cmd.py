"""`conveyor docs generate|download|templates`: document batches (seed 000)."""

from __future__ import annotations

from pathlib import Path

import click

from libs.client.cli.context import Cli, api_errors, finish, json_option, pass_cli
from libs.client.cli.follow import follow, outcome

ReadableFile = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group()
def docs() -> None:
    """Document batches: DOCX templates x data rows -> DOCX/PDF, packed in a ZIP."""


@docs.command()
@click.option("--template", "templates", multiple=True, required=True, type=ReadableFile,
              help="A DOCX template (repeat for several; each row renders with each).")
@click.option("--data", "data", required=True, type=ReadableFile,
              help="Rows: CSV, XLSX or JSON (a list of objects).")
@click.option("--format", "output_format", type=click.Choice(["docx", "pdf"]), default="docx",
              show_default=True)
@click.option("--name", help="The batch's name.")
@click.option("--parallel", is_flag=True, help="Render in parallel (see --concurrency).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=3, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Documents per work message.")
@click.option("--continue-on-error/--stop-on-error", default=True, show_default=True)
@click.option("--wait", is_flag=True, help="Follow with a progress bar, then download the ZIP.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where --wait writes the ZIP (default: <task id>.zip).")
@json_option
@pass_cli
def generate(cli: Cli, templates: tuple[Path, ...], data: Path, output_format: str,
             name: str | None, parallel: bool, concurrency: int, batch_size: int,
             continue_on_error: bool, wait: bool, output: Path | None) -> None:
    """Upload the templates and rows, create the batch and start it."""
    with api_errors():
        client = cli.client()
        uploaded = [client.documents.upload_template(path, name=path.stem) for path in templates]
        source = client.documents.upload_data_source(data)
        created = client.documents.create_batch(
            [t.template_id for t in uploaded], "pdf" if output_format == "pdf" else "docx",
            data_source_id=source.data_source_id, name=name, parallel=parallel,
            options={"createZip": True, "concurrency": concurrency, "batchSize": batch_size,
                     "continueOnError": continue_on_error})
        client.documents.control(created.task_id, "start")
        if not wait:
            cli.emit(created, lambda: cli.out.print(
                f"{created.task_id}: {created.estimated_document_count} documents "
                f"({source.row_count} rows x {len(uploaded)} templates), started; "
                f"`conveyor tasks watch {created.task_id}`"))
            return
        final = follow(cli, created.task_id,
                       f"{created.estimated_document_count} {output_format} documents")
        progress = client.documents.progress(created.task_id)
        target = output or Path(f"{created.task_id}.zip")
        size = client.documents.download_zip(created.task_id, target) if progress.zip_ready \
            else None
    result = {"task": final, "zip": str(target) if size is not None else None, "zipBytes": size}
    cli.emit(result, lambda: cli.out.print(
        f"{final.task_id} {final.status}: {final.completed_items} documents"
        + (f", {final.failed_items} failed" if final.failed_items else "")
        + (f" -> {target} ({size:,} bytes)" if size is not None else ", no ZIP")))
    finish(final.status, outcome(final))


@docs.command()
@click.argument("task_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_cli
def download(cli: Cli, task_id: str, output: Path | None) -> None:
    """Download a finished batch's ZIP."""
    target = output or Path(f"{task_id}.zip")
    with api_errors():
        size = cli.client().documents.download_zip(task_id, target)
    cli.emit({"zip": str(target), "zipBytes": size},
             lambda: cli.out.print(f"{target} ({size:,} bytes)"))


@docs.command("templates")
@json_option
@pass_cli
def list_templates(cli: Cli) -> None:
    """The tenant's templates and the fields each uses."""
    with api_errors():
        found = cli.client().documents.templates()

    cli.emit_table(found, ("ID", "NAME", "FIELDS", "CREATED"),
                   ((t.template_id, t.template_name, ", ".join(t.fields), t.created_at or "")
                    for t in found))
