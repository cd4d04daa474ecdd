"""Servers (seed 004): a docx-to-pdf batch of FILES small documents in four keyword folders,
timed from `POST /batch/process` to `completed` as seen by polling the gateway, on a local
server (a docrender instance with one warm LibreOffice) and on the reference remote server
over HTTP (one warm LibreOffice, reached through the registry's bridge and presigned URLs).
Baseline, same run: the same files converted back to back by one warm LibreOffice instance in
this process, with no storage, broker or database in between."""

from __future__ import annotations

import asyncio
import io
import time

import docx
import httpx

from bench.stack import isolated_stack
from libs.office.pool import OfficePool
from tests.harness import create_user, free_port

FILES = 60
HOST = "127.0.0.2"
LOCAL, REMOTE = "bench-local", "bench-remote"
LOCAL_BATCH, REMOTE_BATCH = 2, 4


def _document(index: int) -> bytes:
    document = docx.Document()
    document.add_heading(f"报告 {index}", 1)
    document.add_paragraph("季度销售情况说明。" * 30)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def _direct(files: list[bytes]) -> float:
    pool = OfficePool(1, max_conversions=1000)
    await pool.start()
    try:
        await pool.to_pdf(files[0])  # warm
        started = time.perf_counter()
        for data in files:
            await pool.to_pdf(data)
        return len(files) / (time.perf_counter() - started)
    finally:
        await pool.stop()


async def _wait_online(client: httpx.AsyncClient, name: str) -> None:
    for _ in range(600):
        response = await client.get(f"/servers/{name}")
        if response.status_code == 200 and response.json()["status"] == "online":
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server {name} never came online")


async def _batch(client: httpx.AsyncClient, server: str, output: str, folders: list[str],
                 expected: int) -> float:
    started = time.perf_counter()
    response = await client.post("/batch/process", json={
        "workflow_name": "docx-to-pdf", "target_folders": folders,
        "folder_keywords": ["kw"], "selected_server": server, "output_root": output})
    assert response.status_code == 200, response.text
    task_id = response.json()["task_id"]
    while True:
        task = (await client.get(f"/batch/tasks/{task_id}")).json()
        if task["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert (task["status"], task["processed_files"]) == ("completed", expected), task
    return expected / elapsed


async def run() -> dict[str, float]:
    files = [_document(i) for i in range(FILES)]
    direct = await _direct(files)
    port = free_port()
    env = {"CONVEYOR_SERVER_URL_ALLOWLIST": f"{HOST}/32",
           "CONVEYOR_REGISTRY_HEALTH_INTERVAL_S": "1", "CONVEYOR_REGISTRY_REMOTE_POLL_INTERVAL_S":
           "0.1", "CONVEYOR_HEARTBEAT_INTERVAL_S": "1"}
    async with isolated_stack(["registry", "scheduler", "gateway"], env) as (cluster, url, _):
        await cluster.start("docrender", CONVEYOR_INSTANCE_NAME=LOCAL,
                            CONVEYOR_DOCRENDER_OFFICE_INSTANCES="1",
                            CONVEYOR_DOCRENDER_RENDER_PROCESSES="1",
                            CONVEYOR_DOCRENDER_SERVER_BATCH_SIZE=str(LOCAL_BATCH))
        await cluster.start("remote_reference", CONVEYOR_REMOTE_REFERENCE_HOST=HOST,
                            CONVEYOR_REMOTE_REFERENCE_PORT=str(port))
        token = await create_user(cluster.env, "bench", "bench-admin", admin=True)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            for i, data in enumerate(files):
                await client.put(f"/files/in/kw-{i % 4}/f{i}.docx", content=data)
            await client.put("/files/warm/kw/w.docx", content=files[0])
            await _wait_online(client, LOCAL)
            registered = await client.post("/servers/register", json={
                "name": REMOTE, "url": f"http://{HOST}:{port}", "type": "remote",
                "batch_size": REMOTE_BATCH})
            assert registered.status_code == 200, registered.text
            await _wait_online(client, REMOTE)
            for server in (LOCAL, REMOTE):  # warm each path once
                await _batch(client, server, f"/warm-out/{server}", ["/warm"], 1)
            local = await _batch(client, LOCAL, "/out/local", ["/in"], FILES)
            remote = await _batch(client, REMOTE, "/out/remote", ["/in"], FILES)
    figures = {"direct_files_per_s": direct, "local_files_per_s": local,
               "remote_files_per_s": remote, "local_ratio": local / direct,
               "remote_ratio": remote / direct}
    print(f"docx-to-pdf, {FILES} files: local server {local:.2f} files/s (batch_size "
          f"{LOCAL_BATCH}), remote server over HTTP {remote:.2f} files/s (batch_size "
          f"{REMOTE_BATCH}); one warm LibreOffice directly {direct:.2f} files/s; ratios "
          f"{figures['local_ratio']:.2f} and {figures['remote_ratio']:.2f}")
    return figures
