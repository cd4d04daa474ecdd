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
    # One last step once every item has settled (e.g. a ZIP of the batch), run by the kind's
    # worker as a `FinalizeTask`; the task stays running until it reports back.
    finalize: bool = False
    finalize_timeout_s: int = 600

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

DOCUMENTS = KindSpec(
    name="documents",
    concurrency=3,  # seed 000's default
    max_concurrency=64 * 100,  # the seed's concurrency (messages) x batchSize (documents each)
    item_timeout_s=120,
    max_items=100_000,  # the ZIP is streamed and items are paged: memory stays flat
    # Seed 000 sets no limit; 100,000 documents on a busy 2-core machine can pass 30 minutes.
    task_timeout_s=4 * 3600,
    stages=(("process", "生成文档"), ("finalize", "打包ZIP")),
    finalize=True,
    finalize_timeout_s=1800,
)

# Seed 001: max_workers (the window) 1-10, default 3. A slide's own retries happen in its
# renderer; the second attempt covers a worker that died or an S3 hiccup.
SLIDES = KindSpec(
    name="slides",
    concurrency=3,
    max_concurrency=10,
    item_timeout_s=300,
    max_attempts=2,
    max_items=200,
)

# Seed 004: a workflow over the files of some folders on one chosen server. Every task is
# routed to that server's own queue (`server.<name>`) and holds its exclusivity key, and its
# window is the server's batch size.
SERVER_BATCH = KindSpec(
    name="server_batch",
    concurrency=5,  # seed 004's default batch_size
    max_concurrency=64,
    # Long enough for a file (or a remote batch without progress reports), and it sets how
    # long queued files wait for a server that went away (4x + 60 s) before being retried.
    item_timeout_s=600,
    task_timeout_s=6 * 3600,
    max_items=10_000,
    stages=(("process", "处理文件"),),
)


# Seed 003: one item per document of a knowledge base; an item downloads, extracts, chunks,
# embeds and stores one document. Many documents are in flight so that the ingester's model
# always has a full batch of their chunks waiting; a bad file fails at once (Permanent), a
# flaky dependency is retried.
KB_SYNC = KindSpec(
    name="kb_sync",
    concurrency=32,
    max_concurrency=64,
    item_timeout_s=900,
    task_timeout_s=6 * 3600,  # a large knowledge base takes a while on CPU embeddings
    max_items=10_000,
    stages=(("process", "同步文档"),),
)

# Seed 002: one item, the generation, whose four agents are the task's stages (the codegen
# service moves them along). A second attempt covers a worker that died; 30 minutes in all.
CODEGEN = KindSpec(
    name="codegen",
    concurrency=1,
    max_concurrency=1,
    item_timeout_s=600,  # every agent's model calls, with their retries
    max_attempts=2,
    max_items=1,
    stages=(("plan", "规划Agent"), ("execute", "执行Agent"), ("validate", "验证Agent"),
            ("generate", "生成Agent")),
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec for spec in (ECHO, DOCUMENTS, SLIDES, KB_SYNC, SERVER_BATCH, CODEGEN)
}
