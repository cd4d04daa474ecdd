"""Every Prometheus metric of Conveyor, in one place, so names and labels stay consistent
across processes (each process exports those it moves; the rest stay at zero or absent).

Conventions: `conveyor_` prefix, base units (seconds), `_total` on counters. Labels take
values from small, closed sets only (kind, outcome, status, queue, route template, reason);
never a task id, item seq, tenant or user, so a series count stays bounded however many tasks
run."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = ["CONTENT_TYPE_LATEST", "exposition"]

# Set (by services/gateway/workers.py) when several processes share one /metrics.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: from a no-op echo item (~100 us) to a slow render (minutes).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                    30, 60, 120, 300)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# --- the engine (scheduler) ----------------------------------------------------------------
TASKS_FINISHED = Counter(
    "conveyor_tasks_finished_total", "Tasks that reached a final status", ["kind", "status"])
TASKS = Gauge(
    "conveyor_tasks", "Unfinished tasks by status (sampled from PostgreSQL)", ["kind", "status"])
ITEMS_SETTLED = Counter(
    "conveyor_items_settled_total",
    "Item results applied by the engine: done, failed (for good) or retried (back to pending)",
    ["kind", "outcome"])
ITEMS_RELEASED = Counter(
    "conveyor_items_released_total",
    "Items a worker could not claim (task paused or cancelled) and that went back", ["kind"])
ITEMS_DISPATCHED = Counter(
    "conveyor_items_dispatched_total", "Items sent to workers", ["kind"])
ITEMS_LEASE_EXPIRED = Counter(
    "conveyor_items_lease_expired_total",
    "Items whose worker went silent past the timeout (counted as failed attempts)")
INFLIGHT = Gauge(
    "conveyor_window_inflight_items", "Items in flight over running tasks (sampled)", ["kind"])
TENANT_ITEMS = Gauge(
    "conveyor_tenant_items", "Items of running tasks by tenant and kind: queued (waiting in "
    "PostgreSQL or the broker) and running (claimed by a worker) (sampled)",
    ["tenant", "kind", "state"])
TENANT_SHARE = Gauge(
    "conveyor_tenant_share", "A tenant's share of a kind's items in flight, 0-1 (sampled)",
    ["tenant", "kind"])
WINDOW = Gauge(
    "conveyor_window_size_items", "Window (concurrency) summed over running tasks (sampled)",
    ["kind"])
DISPATCH_BATCH = Histogram(
    "conveyor_dispatch_batch_items", "Items dispatched per window top-up", ["kind"],
    buckets=SIZE_BUCKETS)
SETTLE_BATCH = Histogram(
    "conveyor_settle_batch_results", "Results applied per engine transaction",
    buckets=SIZE_BUCKETS)
SETTLE_SECONDS = Histogram(
    "conveyor_settle_batch_seconds", "Time to apply one batch of results (one transaction)",
    buckets=DURATION_BUCKETS)
QUEUE_MESSAGES = Gauge(
    "conveyor_rabbitmq_queue_messages", "Messages ready in a queue, as the scheduler sees it",
    ["queue"])
QUEUE_CONSUMERS = Gauge(
    "conveyor_rabbitmq_queue_consumers", "Consumers of a queue, as the scheduler sees it",
    ["queue"])

# --- workers ---------------------------------------------------------------------------------
ITEM_SECONDS = Histogram(
    "conveyor_item_duration_seconds", "Time a worker spent on an item", ["kind", "outcome"],
    buckets=DURATION_BUCKETS)
ITEM_QUEUE_SECONDS = Histogram(
    "conveyor_item_queue_seconds", "Time from dispatch to a worker claiming the message",
    ["kind"], buckets=DURATION_BUCKETS)
ITEM_WAIT_SECONDS = Histogram(
    "conveyor_item_wait_seconds",
    "Time from an item being dispatchable (its task started, or its retry due) to a worker "
    "starting it, by tenant", ["tenant", "kind"], buckets=DURATION_BUCKETS)
WORKER_BUSY = Gauge(
    "conveyor_worker_busy_messages", "Work messages this worker is handling now")
OFFICE_INSTANCES = Gauge(
    "conveyor_office_instances", "LibreOffice instances of this process's pool", ["state"])
OFFICE_RESTARTS = Counter(
    "conveyor_office_restarts_total", "LibreOffice instance restarts", ["reason"])
OFFICE_SECONDS = Histogram(
    "conveyor_office_conversion_seconds", "One DOCX to PDF conversion", buckets=DURATION_BUCKETS)
INGEST_EXTRACT_SECONDS = Histogram(
    "conveyor_ingester_extract_seconds", "Text extraction of one document", ["format"],
    buckets=DURATION_BUCKETS)
INGEST_EMBED_SECONDS = Histogram(
    "conveyor_ingester_embed_seconds", "One embedding batch", buckets=DURATION_BUCKETS)
INGEST_EMBED_BATCH = Histogram(
    "conveyor_ingester_embed_batch_texts", "Texts per embedding batch", buckets=SIZE_BUCKETS)
SLIDES_PROVIDER_CALLS = Counter(
    "conveyor_slides_provider_requests_total",
    "Calls to the external image API by outcome (HTTP status, or `error` without one)",
    ["status"])
SLIDES_PROVIDER_RATE_LIMITED = Counter(
    "conveyor_slides_provider_rate_limited_total", "429 answers from the external image API")

# --- HTTP (gateway) --------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "conveyor_http_requests_total", "HTTP requests by route template and status",
    ["method", "route", "status"])
HTTP_SECONDS = Histogram(
    "conveyor_http_request_duration_seconds", "HTTP request duration by route template",
    ["method", "route"], buckets=HTTP_BUCKETS)

# --- readiness -------------------------------------------------------------------------------
# With several gateway workers: the latest check of any live worker (the one answering a
# scrape checks first; the workers share their dependencies).
READY = Gauge("conveyor_ready", "1 when every readiness check of this process passes",
              multiprocess_mode="livemostrecent")
CHECK_UP = Gauge("conveyor_dependency_up", "1 when a readiness check passes", ["check"],
                 multiprocess_mode="livemostrecent")


def exposition() -> bytes:
    """The default registry (these plus the process and GC collectors) in the text format; in
    multiprocess mode (several gateway workers) the series of every worker, summed (counters,
    histograms) or the latest of the live ones (the readiness gauges); the process and GC
    collectors are per process and not included there."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_exiting() -> None:
    """A worker in multiprocess mode is stopping: its live gauges stop counting."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
