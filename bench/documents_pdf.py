"""PDF batches end to end (create -> ZIP ready, rows of a merge-safe template converted merged)
against two warm LibreOffice instances converting the same documents one at a time, the way
Gotenberg and Celery + LibreOffice setups work; same run. `documents` prints these figures
with the DOCX ones; `python -m bench documents_pdf` runs this part alone, and
`python -m bench documents_pdf_10k` a 10,000-row PDF batch sampling docrender's memory."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx
from docxtpl import DocxTemplate

from bench.stack import isolated_stack
from libs.office.pool import OfficePool

PDF_ROWS = 200
# A user's choice for a large PDF batch: 8 messages of 32 documents in flight.
PDF_OPTIONS = {"concurrency": 8, "batchSize": 32}
SERVICES = ["registry", "scheduler", "docrender", "gateway"]
ROWS_10K = 10_000


async def pdf_batch(client: httpx.AsyncClient, template_id: str, rows: list[dict[str, Any]],
                    *, on_poll: Any = None) -> float:
    """Documents per second, creation to ZIP ready."""
    body = {"templateIds": [template_id], "outputFormat": "pdf", "data": rows,
            "mode": "parallel", "options": PDF_OPTIONS}
    started = time.perf_counter()
    created = await client.post("/api/v2/batch/tasks", json=body)
    assert created.status_code == 200, created.text[:500]
    task_id = created.json()["data"]["taskId"]
    await client.post(f"/api/v2/batch/tasks/{task_id}/start")
    while True:
        polled = await client.get(f"/api/v1/tasks/{task_id}")
        if polled.status_code == 200:
            task = polled.json()["data"]
            if on_poll is not None:
                on_poll(task)
            if task["status"] not in ("pending", "running"):
                break
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    assert task["status"] == "completed", task
    zipped = await client.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert zipped.status_code == 302
    return len(rows) / elapsed


async def direct_office(template: bytes, rows: list[dict[str, Any]]) -> float:
    """Two warm instances converting docxtpl's documents one by one (rendering not timed)."""
    files = []
    for row in rows:
        document = DocxTemplate(io.BytesIO(template))
        document.render(row, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        files.append(out.getvalue())
    pool = OfficePool(2, max_conversions=300)
    await pool.start()
    try:
        await asyncio.gather(pool.to_pdf(files[0]), pool.to_pdf(files[1]))  # both warm
        started = time.perf_counter()
        await asyncio.gather(*(pool.to_pdf(f) for f in files))
        return len(files) / (time.perf_counter() - started)
    finally:
        await pool.stop()


async def upload(client: httpx.AsyncClient, source: bytes) -> str:
    uploaded = await client.post("/api/v2/templates", files={"file": ("t.docx", source)})
    data = uploaded.json()["data"]
    assert data["pdfMode"] == "merged", data
    return str(data["templateId"])


def report(pdf_rate: float, office_rate: float) -> dict[str, float]:
    print(f"pdf: {pdf_rate:.1f} docs/s end to end ({PDF_ROWS} rows, merged conversion, ZIP "
          f"included); two warm LibreOffice instances converting one by one "
          f"{office_rate:.1f} docs/s; ratio {pdf_rate / office_rate:.2f}")
    return {"pdf_e2e_docs_per_s": pdf_rate, "pdf_direct_2_instances_docs_per_s": office_rate,
            "pdf_ratio": pdf_rate / office_rate}


async def run() -> dict[str, float]:
    from bench.documents import _rows, _template

    source = _template("销售合同")
    async with isolated_stack(SERVICES) as (_, url, token):
        await asyncio.sleep(1.5)  # the registry learns docrender can do PDF
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            template_id = await upload(client, source)
            await pdf_batch(client, template_id, _rows(20))  # warm-up
            pdf_rate = await pdf_batch(client, template_id, _rows(PDF_ROWS))
    office_rate = await direct_office(source, _rows(PDF_ROWS))
    return report(pdf_rate, office_rate)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (docrender, its render processes,
    the UNO bridges and the LibreOffice processes under them), each counted once."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue
        process = int(status.parent.name)
        parents[process] = int(fields.get("PPid", "0").strip() or 0)
        rss[process] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo += [child for child, parent in parents.items() if parent == current]
    return sum(rss.get(process, 0) for process in tree) / 1024


async def run_10k() -> dict[str, Any]:
    """A 10,000-row PDF batch: time, and the resident memory of docrender with everything it
    started (LibreOffice included) after 1,000 rows, at its peak and at the end."""
    from bench.documents import _rows, _template

    _rss_mb = tree_rss_mb

    async with isolated_stack(SERVICES) as (cluster, url, token):
        await asyncio.sleep(1.5)
        docrender = next(h for h in cluster.handles if h.name == "docrender")
        headers = {"Authorization": f"Bearer {token}"}
        samples: dict[str, float] = {}
        reported = [0]

        def sample(task: dict[str, Any]) -> None:
            rss = _rss_mb(docrender.pid)
            if "baseline" not in samples and task["completedItems"] >= 1_000:
                samples["baseline"] = rss
            if "baseline" in samples:
                samples["peak"] = max(samples.get("peak", 0.0), rss)
            if task["completedItems"] >= reported[0] + 2_000:
                reported[0] = task["completedItems"]
                print(f"  {reported[0]} rows: docrender {rss:.0f} MB", flush=True)

        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
            template_id = await upload(client, _template("销售合同"))
            started = time.perf_counter()
            rate = await pdf_batch(client, template_id, _rows(ROWS_10K), on_poll=sample)
            elapsed = time.perf_counter() - started
        final = _rss_mb(docrender.pid)
    print(f"10,000-row PDF batch: {elapsed:.0f} s, {rate:.1f} docs/s end to end (ZIP "
          f"included); docrender + LibreOffice RSS {samples.get('baseline', 0):.0f} MB after "
          f"1,000 rows, peak {samples.get('peak', 0):.0f} MB, {final:.0f} MB at the end")
    return {"seconds": elapsed, "docs_per_s": rate, **samples, "final": final}
