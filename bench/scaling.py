"""Several instances: echo throughput (a 20,000-item task, create to completed) with 1 and 2
echo workers and 1 and 2 schedulers, and a 400-document DOCX batch with 1 and 2 docrender
workers, all in one run on one stack (instances are started and stopped between runs).

    .venv/bin/python -m bench.scaling

On a 2-core machine more processes share the same two cores: the figures say what a second
instance costs or buys here, not how a cluster of machines scales."""

from __future__ import annotations

import httpx
import uvloop

from bench.documents import _batch, _rows, _template
from bench.engine import engine_rate
from bench.stack import isolated_stack
from tests.harness import Cluster
from tests.harness.cluster import ServiceHandle

DOCS_ROWS = 400


async def _ready(cluster: Cluster, handle: ServiceHandle) -> ServiceHandle:
    await cluster.wait_ready(handle, within_s=120)
    return handle


async def _docrender(cluster: Cluster, name: str) -> ServiceHandle:
    """DOCX only (no LibreOffice), one render process: two of them share the two cores."""
    return await _ready(cluster, await cluster.start(
        "docrender", CONVEYOR_INSTANCE_NAME=name, CONVEYOR_DOCRENDER_OFFICE_INSTANCES="0",
        CONVEYOR_DOCRENDER_RENDER_PROCESSES="1"))


async def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    async with isolated_stack(["registry", "scheduler", "echo", "gateway"]) as (
            cluster, url, token):
        await engine_rate(url, token)  # warm-up
        figures["echo_1s_1w"] = (await engine_rate(url, token))[0]
        second_echo = await _ready(cluster, await cluster.start("echo"))
        figures["echo_1s_2w"] = (await engine_rate(url, token))[0]
        await _ready(cluster, await cluster.start("scheduler"))
        figures["echo_2s_2w"] = (await engine_rate(url, token))[0]
        await cluster.kill(second_echo)
        figures["echo_2s_1w"] = (await engine_rate(url, token))[0]

        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            upload = await client.post("/api/v2/templates", data={"id": "scale-bench"},
                                       files={"file": ("t.docx", _template("合同"))})
            assert upload.status_code == 201, upload.text
            first = await _docrender(cluster, "dr-1")
            await _batch(client, ["scale-bench"], _rows(50), "docx")  # warm-up
            figures["docs_1w"] = await _batch(client, ["scale-bench"], _rows(DOCS_ROWS), "docx")
            await _docrender(cluster, "dr-2")
            figures["docs_2w"] = await _batch(client, ["scale-bench"], _rows(DOCS_ROWS), "docx")
            assert first.running()
    for schedulers, workers in ((1, 1), (1, 2), (2, 1), (2, 2)):
        rate = figures[f"echo_{schedulers}s_{workers}w"]
        print(f"echo, {schedulers} scheduler(s), {workers} echo worker(s): {rate:,.0f} items/s "
              f"({rate / figures['echo_1s_1w']:.2f}x of 1+1)")
    print(f"docx batch of {DOCS_ROWS}: 1 docrender {figures['docs_1w']:,.1f} docs/s, "
          f"2 docrenders {figures['docs_2w']:,.1f} docs/s "
          f"({figures['docs_2w'] / figures['docs_1w']:.2f}x)")
    return figures


if __name__ == "__main__":
    uvloop.run(run())
