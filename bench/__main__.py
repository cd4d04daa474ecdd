"""`python -m bench`: every benchmark, one after the other."""

import uvloop

from bench import engine, kb


async def main() -> None:
    print("== engine (issue 2): no-op items through the whole engine vs bare broker")
    await engine.run()
    print("== knowledge bases (issue 5): ingest vs the model alone; search over 100k chunks")
    await kb.run()


if __name__ == "__main__":
    uvloop.run(main())
