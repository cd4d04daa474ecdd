"""`python -m bench`: every benchmark, one after the other."""

import uvloop

from bench import bigtask, documents, engine, kb, scaling, servers, serving, slides


async def main() -> None:
    print("== engine (issue 2): no-op items through the whole engine vs bare broker")
    await engine.run()
    print("== documents (issue 3): batches end to end vs docxtpl loop and direct LibreOffice")
    await documents.run()
    print("== slides (issue 4): 200 slides through the system vs one process drawing them")
    await slides.run()
    print("== servers (issue 6): docx-to-pdf batches on a local and a remote server vs direct")
    await servers.run()
    print("== knowledge bases (issue 5): ingest vs the model alone; search over 100k chunks")
    await kb.run()
    print("== serving (issue 14): task-status reads, gateway vs minimal Litestar, same SQL")
    await serving.run()
    print("== scaling (issue 14): 1 and 2 schedulers / echo workers / docrenders")
    await scaling.run()
    print("== big tasks (issue 14): 1,000,000 items vs 20,000 (autovacuum off)")
    await bigtask.run()


if __name__ == "__main__":
    uvloop.run(main())
