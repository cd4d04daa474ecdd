"""Trace context across a message: the publisher's headers carry it, the consumer's span
continues it (in-memory exporter); off by default, and then nothing records."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from libs.observability import tracing
from libs.settings import CommonSettings


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    tracing.configure("test", CommonSettings(), exporter=memory)
    yield memory
    tracing.shutdown()


def test_context_crosses_message_headers(exporter: InMemorySpanExporter) -> None:
    headers: dict[str, Any] = {"x-type": "ProcessItems"}
    with tracing.span("POST /api/v1/tasks"):
        tracing.inject(headers)
    assert headers["traceparent"].startswith("00-")
    # The receiving side: headers arrive as AMQP gives them (bytes are possible).
    received = {**headers, "traceparent": headers["traceparent"].encode()}
    with tracing.extracted(received), tracing.span("consume echo.items"), \
            tracing.span("item.handle"):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert len({s.context.trace_id for s in spans.values()}) == 1
    assert spans["consume echo.items"].parent.span_id == spans["POST /api/v1/tasks"].context.span_id
    assert spans["item.handle"].parent.span_id == spans["consume echo.items"].context.span_id


def test_off_by_default_records_nothing_and_costs_little() -> None:
    assert not tracing.enabled()
    headers: dict[str, Any] = {}
    started = time.perf_counter()
    for _ in range(100_000):
        with tracing.span("item.handle", attributes={"conveyor.kind": "echo"}):
            tracing.inject(headers)
    per_call_us = (time.perf_counter() - started) / 100_000 * 1e6
    assert headers == {}
    assert per_call_us < 5, f"{per_call_us:.1f} us per disabled span"
    with tracing.extracted({"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}):
        with tracing.span("x") as span:
            assert not span.is_recording()
