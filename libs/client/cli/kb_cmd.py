"""`conveyor kb ls|create|upload|sync|search`: knowledge bases (seed 003)."""

from __future__ import annotations

from pathlib import Path

import click

from libs.client.cli.context import Cli, api_errors, finish, json_option, pass_cli
from libs.client.cli.follow import follow, outcome


@click.group()
def kb() -> None:
    """Knowledge bases: upload documents, sync (extract, chunk, embed), search."""


@kb.command("ls")
@json_option
@pass_cli
def ls(cli: Cli) -> None:
    """The tenant's knowledge bases."""
    with api_errors():
        found = cli.client().kb.list(limit=100)

    cli.emit_table(found, ("ID", "NAME", "DOCUMENTS", "CREATED"),
                   ((k.id, k.name, str(k.document_count), k.created_at or "") for k in found))


@kb.command()
@click.argument("name")
@click.option("--description", default="")
@json_option
@pass_cli
def create(cli: Cli, name: str, description: str) -> None:
    """Create a knowledge base; prints its id."""
    with api_errors():
        created = cli.client().kb.create(name, description)
    cli.emit(created, lambda: cli.out.print(created.id))


@kb.command()
@click.argument("kb_id")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_cli
def upload(cli: Cli, kb_id: str, files: tuple[Path, ...]) -> None:
    """Upload documents (PDF, DOCX, HTML, Markdown, TXT)."""
    with api_errors():
        client = cli.client()
        documents = [client.kb.upload(kb_id, path) for path in files]

    def human() -> None:
        for d in documents:
            cli.out.print(f"{d.id} {d.filename} {d.sync_status}")

    cli.emit(documents, human)


@kb.command()
@click.argument("kb_id")
@click.option("--document", "document_ids", multiple=True,
              help="Sync only these documents (incremental); default: a full sync.")
@click.option("--wait", is_flag=True, help="Follow with a progress bar until it ends.")
@json_option
@pass_cli
def sync(cli: Cli, kb_id: str, document_ids: tuple[str, ...], wait: bool) -> None:
    """Start a sync task."""
    with api_errors():
        client = cli.client()
        created = client.kb.sync(kb_id, list(document_ids) or None)
        if not wait:
            cli.emit(created, lambda: cli.out.print(
                f"{created.task_id}: {created.total_documents} documents"))
            return
        engine_id = created.task_id.removeprefix("task-")
        final = follow(cli, engine_id, f"sync {created.total_documents} documents")
        details = client.kb.sync_task(created.task_id)
    cli.emit(details, lambda: cli.out.print(
        f"{details.id} {details.status}: {details.processed_documents} processed, "
        f"{details.failed_documents} failed, {details.skipped_documents} unchanged"))
    finish(final.status, outcome(final))


@kb.command()
@click.argument("kb_id")
@click.argument("query")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 50))
@json_option
@pass_cli
def search(cli: Cli, kb_id: str, query: str, top_k: int) -> None:
    """The chunks nearest in meaning to QUERY, best first."""
    with api_errors():
        found = cli.client().kb.search(kb_id, query, top_k)

    def human() -> None:
        for hit in found.results:
            cli.out.print(f"[bold]{hit.score:.3f}[/] {hit.filename} #{hit.chunk_index}")
            cli.out.print("  " + hit.content[:300].replace("\n", " "))

    cli.emit(found, human)
