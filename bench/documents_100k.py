"""Documents at scale (issue 13): one 100,000-row DOCX batch end to end, sampling the resident
memory of every service (with its children) after 1,000 rows and until the ZIP is ready; then
the ZIP is downloaded to disk and checked: 100,000 documents + manifest. Not part of
`python -m bench` (it takes minutes and gigabytes of S3): `python -m bench documents_100k`."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import zipfile
from typing import Any

import docx
import httpx

from bench.documents import _rows, _rss_mb, _template
from bench.stack import isolated_stack

ROWS = 100_000
SERVICES = ["registry", "scheduler", "docrender", "gateway"]
SAMPLE_EVERY_S = 1.0


async def run() -> dict[str, Any]:
    # The benchmark's S3 (moto, in this process) keeps objects above this size on disk.
    os.environ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(256 * 1024)
    env = {"CONVEYOR_DOCRENDER_OFFICE_INSTANCES": "0"}
    async with isolated_stack(SERVICES, env) as (cluster, url, token):
        pids = {h.name: h.pid for h in cluster.handles}
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
            uploaded = await client.post("/api/v2/templates",
                                         files={"file": ("t.docx", _template("销售合同"))})
            template = uploaded.json()["data"]
            rows = json.dumps(_rows(ROWS), ensure_ascii=False).encode()
            source = await client.post("/api/v2/data-sources",
                                       files={"file": ("rows.json", rows)})
            assert source.status_code == 201, source.text[:500]
            body = {"templateIds": [template["templateId"]], "outputFormat": "docx",
                    "dataSourceId": source.json()["data"]["dataSourceId"], "mode": "parallel",
                    "options": {"concurrency": 8, "batchSize": 32}}
            started = time.perf_counter()
            created = await client.post("/api/v2/batch/tasks", json=body)
            assert created.status_code == 200, created.text[:500]
            task_id = created.json()["data"]["taskId"]
            await client.post(f"/api/v2/batch/tasks/{task_id}/start")
            baseline: dict[str, float] = {}
            peak: dict[str, float] = {}
            while True:
                task = (await client.get(f"/api/v1/tasks/{task_id}")).json()["data"]
                rss = {name: _rss_mb(pid) for name, pid in pids.items()}
                if not baseline and task["completedItems"] >= 1_000:
                    baseline = rss
                if baseline:
                    peak = {name: max(peak.get(name, 0.0), value) for name, value in rss.items()}
                if task["status"] not in ("pending", "running"):
                    break
                await asyncio.sleep(SAMPLE_EVERY_S)
            elapsed = time.perf_counter() - started
            final = {name: _rss_mb(pid) for name, pid in pids.items()}
            for name in SERVICES:  # printed first: worth reading even if the batch failed
                print(f"  {name}: RSS {baseline.get(name, 0):.0f} MB after 1,000 rows, peak "
                      f"{peak.get(name, 0):.0f} MB, {final[name]:.0f} MB at the end")
            assert task["status"] == "completed", task
            zipped = await client.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
            checked = await _check_zip(zipped.headers["location"])
    growth = {name: peak[name] - baseline[name] for name in SERVICES}
    print(f"100,000 rows: {ROWS / elapsed:.1f} docs/s end to end ({elapsed:.0f} s, ZIP included);"
          f" ZIP {checked['bytes'] / 1e9:.2f} GB, {checked['documents']} documents + manifest "
          f"({checked['manifest_lines']} lines)")
    print("  growth from 1,000 rows to the peak: " + ", ".join(
        f"{name} +{growth[name]:.0f} MB" for name in SERVICES))
    return {"docs_per_s": ROWS / elapsed, "baseline": baseline, "peak": peak, "final": final,
            "growth": growth, **checked}


async def _check_zip(location: str) -> dict[str, int]:
    with tempfile.TemporaryFile() as spool:
        async with httpx.AsyncClient(timeout=600) as plain, plain.stream("GET", location) as got:
            assert got.status_code == 200
            async for chunk in got.aiter_bytes(1024 * 1024):
                spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            names = archive.namelist()
            documents = [name for name in names if name.endswith(".docx")]
            assert len(names) == len(set(names)) == ROWS + 1, len(names)
            manifest = json.loads(archive.read("manifest.json"))
            assert len(manifest) == ROWS and all(m["status"] == "done" for m in manifest)
            for name in (documents[0], documents[len(documents) // 2], documents[-1]):
                with archive.open(name) as entry:
                    docx.Document(entry)  # opens
    return {"bytes": size, "documents": len(documents), "manifest_lines": len(manifest)}
