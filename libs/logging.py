"""structlog setup: console in dev, JSON in prod; context (task, item, correlation ids) lives in
contextvars so every line inside a handler carries it.

Tracebacks are rendered as plain text in every mode, never with local variables (rich's and
structlog's dict tracebacks print locals, and a request handler's locals hold the caller's
`Authorization` header); every line then goes through libs.redaction before it is written."""

import logging
import sys

import structlog

from libs.redaction import redact_event


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
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                           exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        # Filter first: a debug line on a hot path then costs a level check, not a render.
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn.error logs each WebSocket request line, query string (and so a ?token=) included.
    for noisy in ("aiormq", "aio_pika", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
