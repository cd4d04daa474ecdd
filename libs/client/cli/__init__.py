"""`conveyor`: the command-line client (console script from pyproject; also
`python -m libs.client.cli`)."""

from __future__ import annotations

import click

from libs.client import Client
from libs.client.cli import config
from libs.client.cli.codegen_cmd import generate, generate_status
from libs.client.cli.context import EXIT_HELP, Cli, Exit, api_errors, fail, json_option, pass_cli
from libs.client.cli.docs_cmd import docs
from libs.client.cli.kb_cmd import kb
from libs.client.cli.servers_cmd import batch, servers
from libs.client.cli.slides_cmd import slides
from libs.client.cli.tasks_cmd import tasks


@click.group(epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="CONVEYOR_URL", help="Gateway URL (default: from `conveyor login`).")
@click.option("--token", envvar="CONVEYOR_TOKEN", help="Bearer token (default: from login).")
@json_option
@click.version_option(package_name="conveyor", prog_name="conveyor")
@pass_cli
def cli(state: Cli, url: str | None, token: str | None) -> None:
    """Conveyor from the command line: run and follow long batch jobs."""
    state.url, state.token = url, token


@cli.command()
@click.option("--url", "login_url", prompt="Gateway URL", default=config.DEFAULT_URL,
              show_default=True)
@click.option("--token", "login_token", prompt="Token", hide_input=True,
              help="Prompted (hidden) when not given.")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Check the token against the gateway first.")
@json_option
@pass_cli
def login(state: Cli, login_url: str, login_token: str, verify: bool) -> None:
    """Store the gateway URL and token for later commands (file readable by you only)."""
    login_url = login_url.rstrip("/")
    if not login_url.startswith(("http://", "https://")):
        fail(Exit.USAGE, f"--url must start with http:// or https:// (got {login_url!r})")
    if verify:
        with api_errors(), Client(login_url, login_token) as client:
            client.tasks.list(page_size=1)
    path = config.save(config.Profile(url=login_url, token=login_token))
    state.emit({"url": login_url, "config": str(path)},
               lambda: state.out.print(f"logged in to {login_url}; saved to {path}"))


for group in (tasks, docs, slides, kb, servers, batch, generate, generate_status):
    cli.add_command(group)


def main() -> None:
    cli(prog_name="conveyor")
