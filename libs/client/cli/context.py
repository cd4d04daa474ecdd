"""What every command shares: the client, `--json` output and exit codes scripts can trust."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
import msgspec
from rich.console import Console
from rich.table import Table

from libs.client import ApiError, Client, TransportError, Unauthorized
from libs.client.cli import config
from libs.client.cli.i18n import tr
from libs.client.tasks import AmbiguousId


class Exit(enum.IntEnum):
    """The process's exit status. Documented in `conveyor --help` and README."""

    OK = 0  # done: the task completed
    FAILED = 1  # the task failed
    USAGE = 2  # bad arguments (click's own)
    PARTIAL = 3  # the task finished with some items failed
    CANCELLED = 4  # the task was cancelled
    API_ERROR = 5  # the API refused the request (the envelope's code is on stderr)
    UNREACHABLE = 6  # the gateway could not be reached
    AUTH = 7  # not logged in, or the token was refused
    INTERRUPTED = 130  # Ctrl-C; the task keeps running


EXIT_HELP = """Exit status: 0 done; 1 task failed; 2 bad arguments; 3 partial success;
4 cancelled; 5 the API refused the request; 6 gateway unreachable; 7 not logged in or
token refused; 130 interrupted (the task keeps running)."""

STATUS_EXIT = {"completed": Exit.OK, "partial_success": Exit.PARTIAL, "failed": Exit.FAILED,
               "cancelled": Exit.CANCELLED}

T = TypeVar("T")


@dataclass
class Cli:
    url: str | None = None
    token: str | None = None
    json: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            profile = config.resolve(self.url, self.token)
            if not profile.token:
                fail(Exit.AUTH, "not logged in: run `conveyor login` (or set CONVEYOR_TOKEN)")
            self._client = Client(profile.url, profile.token)
        return self._client

    def task_id(self, given: str) -> str:
        """A task id, or the unique prefix of one, as the full id."""
        return self.client().tasks.resolve(given)

    def emit_table(self, value: Any, columns: Sequence[str],
                   rows: Iterable[Sequence[str]]) -> None:
        """`--json`: the value; otherwise a plain table of `rows` (ids are never cut)."""
        listed = [list(row) for row in rows]
        table = Table(box=None)
        for index, column in enumerate(columns):
            add_column(table, column, [row[index] for row in listed])
        for row in listed:
            table.add_row(*row)
        self.emit(value, lambda: self.out.print(table))

    def emit(self, value: Any, human: Callable[[], None]) -> None:
        """`--json`: the value as JSON on stdout (one document); otherwise `human()`."""
        if self.json:
            sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
            sys.stdout.flush()
        else:
            human()


def add_column(table: Table, column: str, values: Sequence[str]) -> None:
    """An ID column is as wide as its longest id (others give way in a narrow terminal): a
    cut id cannot be pasted into the next command."""
    if column == "ID":
        table.add_column(column, no_wrap=True, min_width=max(map(len, values), default=2))
    else:
        table.add_column(column, overflow="fold")


def fail(code: Exit, message: str) -> None:
    click.echo(f"conveyor: {tr(message)}", err=True)
    raise SystemExit(int(code))


def finish(status: str, reason: str) -> None:
    """End the process with the exit status a task's final `status` maps to."""
    code = STATUS_EXIT.get(status, Exit.FAILED)
    if code != Exit.OK:
        fail(code, reason)


@contextmanager
def api_errors() -> Iterator[None]:
    """API and transport errors -> a line on stderr and their exit status."""
    try:
        yield
    except Unauthorized as exc:
        fail(Exit.AUTH, f"{exc} (run `conveyor login`)")
    except ApiError as exc:
        fail(Exit.API_ERROR, one_line(exc))
    except AmbiguousId as exc:
        fail(Exit.API_ERROR, str(exc))
    except TransportError as exc:
        fail(Exit.UNREACHABLE, str(exc))


def one_line(exc: ApiError) -> str:
    """The API's message as a person reads it, its status and code after it for scripts:
    `rows.csv lacks amount, city (400 VALIDATION_ERROR)`."""
    message = " ".join(exc.message.split())
    return f"{message} ({exc.status} {exc.code})"


pass_cli = click.make_pass_decorator(Cli, ensure=True)


def json_option(command: Callable[..., T]) -> Callable[..., T]:
    """`--json` on a subcommand, as well as before it (`conveyor --json tasks ls`)."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(Cli).json = True

    return click.option("--json", "as_json", is_flag=True, expose_value=False,
                        callback=set_json, help="Machine-readable JSON on stdout.")(command)
