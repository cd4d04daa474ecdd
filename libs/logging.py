"""structlog setup: console in dev, JSON in prod; context (task, item, correlation ids) lives in
contextvars so every line inside a handler carries it.

Tracebacks are rendered as plain text in every mode, never with local variables (rich's and
structlog's dict tracebacks print locals, and a request handler's locals hold the caller's
`Authorization` header); every line then goes through libs.redaction before it is written."""

import contextlib
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from libs.redaction import redact_event

# Values msgspec renders exactly as json.dumps does (but compact and in UTF-8).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_line(event: dict[str, Any], default: Callable[[Any], Any]) -> str:
    """The JSON renderer's serializer: msgspec for a line of plain values (an access line, most
    lines; ~5x cheaper than json.dumps), json.dumps for the rest, so any other object is
    rendered through structlog's fallback (its repr) as before, never by msgspec's own rules."""
    if all(type(value) in _SCALARS for value in event.values()):
        try:
            return msgspec.json.encode(event).decode()
        except UnicodeEncodeError:  # a lone surrogate: json.dumps escapes it
            pass
    return json.dumps(event, default=default)


class DirectLogger:
    """Where structlog's chain ends for our own lines: the rendered line is written to the
    root handler's stream under the handler's lock, as the handler would write it, without
    the two LogRecords and the formatter pass per line that the stdlib route costs (a third
    of the gateway's access line). Levels are still the stdlib logger's of the same name;
    lines of libraries that log through stdlib take the handler's formatter as before."""

    def __init__(self, name: str = "root", *_: Any) -> None:
        self.name = name
        self._stdlib = logging.getLogger(name)

    @property
    def disabled(self) -> bool:  # read by structlog's filter_by_level
        return self._stdlib.disabled

    def getEffectiveLevel(self) -> int:
        return self._stdlib.getEffectiveLevel()

    def __getattr__(self, name: str) -> Any:  # the rest of the stdlib logger's interface
        return getattr(self._stdlib, name)

    def write(self, line: str) -> None:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                with handler.lock or contextlib.nullcontext():
                    handler.stream.write(line + handler.terminator)
                    handler.flush()
            else:  # not ours (a test's, a library's): the ordinary route
                handler.handle(logging.makeLogRecord({"name": self.name, "msg": line,
                                                      "levelno": logging.INFO}))

    debug = info = warning = warn = error = exception = critical = fatal = msg = write


def configure_logging(service: str, *, json_logs: bool, level: str = "info") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Text tracebacks (no locals) in both modes, so the redactor sees them.
        structlog.processors.format_exc_info,
        redact_event,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=json_line)
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                           exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        # Filter first: a debug line on a hot path then costs a level check, not a render.
        processors=[structlog.stdlib.filter_by_level, *shared, renderer],
        logger_factory=DirectLogger,
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Libraries that log through stdlib (aio-pika, uvicorn) get the same format.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer,
        ])
    )
    # No caller lookup (a stack walk per line): no renderer prints file or line numbers.
    logging._srcfile = None  # the switch logging's source documents for this
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn.error logs each WebSocket request line, query string (and so a ?token=) included.
    for noisy in ("aiormq", "aio_pika", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)  # a DirectLogger named `name` underneath
