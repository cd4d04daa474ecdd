"""`conveyor docs generate|download|templates`: document batches (seed 000)."""

from __future__ import annotations

from pathlib import Path

import click

from libs.client.cli.context import Cli, api_errors, finish, json_option, pass_cli
from libs.client.cli.follow import follow, outcome
from libs.client.cli.i18n import tr

ReadableFile = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group()
def docs() -> None:
    """Document batches: DOCX templates x data rows -> DOCX/PDF, packed in a ZIP."""


def row_range(_ctx: click.Context, _param: click.Parameter,
              value: str | None) -> tuple[int, int | None] | None:
    """`--rows 1-30`, `--rows 5` or `--rows 10-` (to the end): 1-based, inclusive."""
    if value is None:
        return None
    first, dash, last = value.partition("-")
    try:
        start = int(first)
        end = (int(last) if last else None) if dash else start
    except ValueError:
        raise click.BadParameter(f"{value!r}: give rows as FIRST-LAST, e.g. 1-30") from None
    if start < 1 or (end is not None and end < start):
        raise click.BadParameter(f"{value!r}: rows count from 1, and LAST >= FIRST")
    return start, end


@docs.command()
@click.option("--template", "templates", multiple=True, type=ReadableFile,
              help="A DOCX template (repeat for several; each row renders with each). "
                   "Uploaded once: the same file again reuses the upload.")
@click.option("--template-id", "template_ids", multiple=True,
              help="An uploaded template's id (repeat; see `conveyor docs templates`).")
@click.option("--data", "data", type=ReadableFile,
              help="Rows: CSV, XLSX or JSON (a list of objects); uploaded once.")
@click.option("--data-source-id", help="An uploaded data source's id (instead of --data).")
@click.option("--rows", "rows", callback=row_range, metavar="FIRST-LAST",
              help="Only these rows of the data (1-based, inclusive), e.g. 1-30.")
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
def generate(cli: Cli, templates: tuple[Path, ...], template_ids: tuple[str, ...],
             data: Path | None, data_source_id: str | None,
             rows: tuple[int, int | None] | None, output_format: str, name: str | None,
             parallel: bool, concurrency: int, batch_size: int, continue_on_error: bool,
             wait: bool, output: Path | None) -> None:
    """Create a batch from templates and rows (files, uploaded once, or ids) and start it."""
    if not templates and not template_ids:
        raise click.UsageError(tr("give --template FILE or --template-id ID"))
    if (data is None) == (data_source_id is None):
        raise click.UsageError(tr("give either --data FILE or --data-source-id ID"))
    with api_errors():
        client = cli.client()
        ensured = [client.documents.ensure_template(path, name=path.stem) for path in templates]
        ids = [t.template_id for t, _ in ensured] + list(template_ids)
        uploads = sum(new for _, new in ensured)
        if data is not None:
            source, new = client.documents.ensure_data_source(data, name=data.name)
            uploads += new
        else:
            source = client.documents.data_source(str(data_source_id))
        created = client.documents.create_batch(
            ids, "pdf" if output_format == "pdf" else "docx",
            data_source_id=source.data_source_id, name=name, parallel=parallel,
            options={"createZip": True, "concurrency": concurrency, "batchSize": batch_size,
                     "continueOnError": continue_on_error}, row_range=rows)
        client.documents.control(created.task_id, "start")
        reused = f"{uploads} file(s) uploaded, {len(ensured) + (data is not None) - uploads} " \
                 "reused"
        if not wait:
            cli.emit(created, lambda: cli.out.print(tr(
                f"{created.task_id}: {created.estimated_document_count} documents "
                f"({created.estimated_document_count // max(len(ids), 1)} rows x {len(ids)} "
                f"templates), started ({reused}); `conveyor tasks watch {created.task_id}`")))
            return
        cli.err.print(tr(reused))
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
    with api_errors():
        task_id = cli.task_id(task_id)
        target = output or Path(f"{task_id}.zip")
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
