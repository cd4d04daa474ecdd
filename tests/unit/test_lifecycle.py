"""The shared service lifecycle's pieces that need no broker: the schema check's revision
graph and the order parts start and drain in."""

import asyncio

from libs.db.schema_check import missing_heads, revision_graph
from libs.lifecycle import Loop, Part, _drain


def test_the_graph_of_the_real_migrations_has_one_root() -> None:
    graph = revision_graph()
    assert [rev for rev, parents in graph.items() if not parents] == ["0001"]
    assert all(parent in graph for parents in graph.values() for parent in parents)


def test_missing_heads() -> None:
    graph = {"0001": (), "0002": ("0001",), "a_0001": ("0001",), "a_0002": ("a_0001",)}
    assert missing_heads(set(), graph) == {"0002", "a_0002"}
    assert missing_heads({"0002", "a_0001"}, graph) == {"a_0002"}
    assert missing_heads({"0002", "a_0002"}, graph) == set()
    assert missing_heads({"0002", "b_0001"}, graph) == set()  # a newer schema than the code


async def test_parts_drain_in_reverse_order_and_a_failure_stops_none() -> None:
    drained: list[str] = []

    class Recorder:
        def __init__(self, name: str, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        async def start(self) -> None:
            pass

        async def drain(self) -> None:
            drained.append(self.name)
            if self.fail:
                raise RuntimeError("drain failed")

    parts: list[Part] = [Recorder("first"), Recorder("second", fail=True), Recorder("third")]
    await _drain(parts)
    assert drained == ["third", "second", "first"]


async def test_a_loop_runs_until_drained() -> None:
    ticks = 0

    async def body() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    loop = Loop("ticker", body)
    await loop.start()
    await asyncio.sleep(0.01)
    await loop.drain()
    seen = ticks
    await asyncio.sleep(0.01)
    assert seen > 0 and ticks == seen
