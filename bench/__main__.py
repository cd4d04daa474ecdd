"""`python -m bench [name ...]`: every benchmark (or the named ones), one after the other."""

import sys

import uvloop

from bench import (
    bigtask,
    codegen,
    documents,
    documents_100k,
    documents_pdf,
    engine,
    fairness,
    kb,
    kb_eval,
    markdown,
    scaling,
    servers,
    serving,
    slides,
)

BENCHMARKS = {
    "engine": ("engine (issue 2): no-op items through the whole engine vs bare broker",
               engine.run),
    "documents": ("documents (issues 3, 13): batches end to end vs the Celery peer and direct "
                  "LibreOffice", documents.run),
    "slides": ("slides (issue 4): 200 slides through the system vs one process drawing them",
               slides.run),
    "servers": ("servers (issue 6): docx-to-pdf batches on a local and a remote server vs "
                "direct", servers.run),
    "kb": ("knowledge bases (issues 5, 15, 28): ingest vs the model alone; retrieval quality "
           "on two question sets (vector, keyword, hybrid); hybrid search over 100k chunks",
           kb.run),
    "serving": ("serving (issue 14): task-status reads, gateway vs minimal Litestar, same SQL",
                serving.run),
    "fairness": ("fairness (issue 24): a small tenant's task against another's flood, and "
                 "weights 3:1, fair share vs first come first served", fairness.run),
    "scaling": ("scaling (issue 14): 1 and 2 schedulers, echo workers and docrenders",
                scaling.run),
    "codegen": ("code generation (issue 23): 10 requirements of 3-15 entities, offline "
                "provider, vs the same generations in one process", codegen.run),
    "markdown": ("Markdown extraction (issue 21): 1 MB ordinary and adversarial inputs vs "
                 "markdown-it-py", markdown.run),
}


# Only when named: minutes long and gigabytes of S3 (documents), or half an hour (bigtask).
ON_REQUEST = {
    "bigtask": ("big tasks (issue 14): 1,000,000 echo items vs 20,000, autovacuum off",
                bigtask.run),
    "documents_100k": ("documents at scale (issue 13): a 100,000-row batch, memory of every "
                       "service", documents_100k.run),
    "documents_pdf": ("PDF batches alone (issue 25): merged conversion end to end vs two warm "
                      "LibreOffice instances one by one", documents_pdf.run),
    "documents_pdf_10k": ("a 10,000-row PDF batch (issue 25): time and docrender's memory",
                          documents_pdf.run_10k),
    "kb_eval": ("knowledge-base retrieval quality alone, both question sets (issues 15, 28)",
                kb_eval.run),
    "kb_search": ("knowledge-base search alone at 100k chunks (issue 15)", kb.run_search),
}
# Takes its own options (`python -m bench soak --minutes 3`): it must be named alone.
SOAK = "soak"


async def main(names: list[str]) -> None:
    known = {**BENCHMARKS, **ON_REQUEST}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {sorted(known)}")
    for name in names or list(BENCHMARKS):
        title, run = known[name]
        print(f"== {title}")
        await run()


if __name__ == "__main__":
    if sys.argv[1:2] == [SOAK]:
        from bench.soak.__main__ import main as soak_main

        sys.exit(soak_main(sys.argv[2:]))
    uvloop.run(main(sys.argv[1:]))
