"""OpenTelemetry traces: one trace from the HTTP request that creates a task, through the
scheduler's dispatch, to each worker's item handling and its S3 writes.

Off by default. Without `CONVEYOR_OTLP_ENDPOINT` (or `CONVEYOR_TRACE_FILE`) no SDK provider is
installed, so every `span()` is the API's non-recording span: a context-manager enter and exit,
no allocation of span data, no export. Context crosses processes in AMQP headers
(`traceparent`, W3C), injected by the publisher and extracted by the consumer runner.

Exporters: OTLP over HTTP when `opentelemetry-exporter-otlp-proto-http` is installed (optional,
not in the runtime lock), or JSON lines to a file (`CONVEYOR_TRACE_FILE`, for debugging and the
tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import IO, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

from libs.logging import get_logger

log = get_logger(__name__)

_NO_TRACER = trace.NoOpTracer()
_tracer: trace.Tracer = _NO_TRACER
_provider: Any = None
_enabled = False
_file: IO[str] | None = None


def configure(service: str, settings: Any, exporter: Any = None) -> None:
    """Install the SDK provider when tracing is configured (or an exporter is given: tests)."""
    global _enabled, _file, _tracer, _provider
    endpoint = getattr(settings, "otlp_endpoint", "")
    trace_file = getattr(settings, "trace_file", "")
    if exporter is None and not endpoint and not trace_file:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    ratio = float(getattr(settings, "trace_sample_ratio", 1.0))
    provider = TracerProvider(resource=Resource.create({"service.name": service}),
                              sampler=ParentBased(TraceIdRatioBased(ratio)))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if trace_file:
        _file = open(trace_file, "a", buffering=1)  # closed by shutdown()
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
            out=_file, formatter=lambda span: span.to_json(indent=None) + "\n")))
    if endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError:
            log.warning("tracing.otlp_unavailable",
                        hint="pip install opentelemetry-exporter-otlp-proto-http")
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    # Our own provider rather than the global one: a test can switch tracing off again.
    _provider, _tracer, _enabled = provider, provider.get_tracer("conveyor"), True
    log.info("tracing.enabled", otlp=bool(endpoint), file=bool(trace_file), ratio=ratio)


def shutdown() -> None:
    """Flush and stop exporting; spans are non-recording again afterwards."""
    global _enabled, _file, _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    if _file is not None:
        _file.close()
    _provider, _tracer, _enabled, _file = None, _NO_TRACER, False, None


def enabled() -> bool:
    return _enabled


class _NotRecording(contextlib.AbstractContextManager[Span]):
    """What `span()` returns while tracing is off: one shared object, nothing allocated."""

    def __enter__(self) -> Span:
        return trace.INVALID_SPAN

    def __exit__(self, *_: object) -> None:
        return None


_NOT_RECORDING = _NotRecording()


def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL,
         attributes: Mapping[str, Any] | None = None) -> contextlib.AbstractContextManager[Span]:
    if not _enabled:
        return _NOT_RECORDING
    return _tracer.start_as_current_span(name, kind=kind, attributes=dict(attributes or {}))


def inject(headers: MutableMapping[str, Any]) -> None:
    """Add the current trace context (W3C `traceparent`) to outgoing message headers."""
    if _enabled:
        propagate.inject(headers)


@contextlib.contextmanager
def extracted(headers: Mapping[str, Any] | None) -> Iterator[None]:
    """Run the block in the trace context carried by an incoming message's headers."""
    if not _enabled or not headers or "traceparent" not in headers:
        yield
        return
    carrier = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()
               if k in ("traceparent", "tracestate")}
    token = otel_context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)
