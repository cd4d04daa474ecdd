"""Kinds of batch and their engine defaults. A task copies these at creation, so changing a
default never changes a task that is already running."""

import msgspec


class KindSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    concurrency: int = 10  # default window: items in flight at once
    max_concurrency: int = 100
    pack_size: int = 1  # items per work message; >1 only for cheap items
    item_timeout_s: int = 300
    task_timeout_s: int | None = 1800  # seed 002: unfinished after 30 minutes -> failed
    max_attempts: int = 3
    max_items: int = 10_000
    stages: tuple[tuple[str, str], ...] = (("process", "Processing items"),)
    # Whether clients may create it through the generic task API (kinds with their own seed
    # API validate richer requests there instead).
    generic_create: bool = False

    @property
    def route(self) -> str:
        return self.name


ECHO = KindSpec(
    name="echo",
    concurrency=200,
    max_concurrency=2000,
    pack_size=50,
    item_timeout_s=30,
    max_items=100_000,
    generic_create=True,
)

# Seed 003: one item per document of a knowledge base; an item downloads, extracts, chunks,
# embeds and stores one document. Embedding is CPU-bound, so few documents are in flight; a
# bad file fails at once (Permanent), a flaky dependency is retried.
KB_SYNC = KindSpec(
    name="kb_sync",
    concurrency=4,
    max_concurrency=16,
    item_timeout_s=900,
    task_timeout_s=6 * 3600,  # a large knowledge base takes a while on CPU embeddings
    max_items=10_000,
    stages=(("process", "同步文档"),),
)

KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (ECHO, KB_SYNC)}
