"""Documents (seed 000): a 1,000-row x 2-template batch end to end (create -> ZIP ready) against
the Celery peer (bench/peer.py: 2 prefork workers, late acks, docxtpl, the same RabbitMQ)
rendering the same 2,000 documents, and PDF end to end against two warm LibreOffice instances
converting the same files directly (bench/documents_pdf.py); same run. Also the resident memory
of docrender and the scheduler after a small and after the large batch."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import docx
import httpx

from bench.documents_pdf import PDF_ROWS, direct_office, pdf_batch, report
from bench.peer import celery_docs_per_s
from bench.stack import isolated_stack

ROWS = 1_000


def _template(title: str) -> bytes:
    document = docx.Document()
    document.add_heading(f"{title} {{{{ name }}}}", 1)
    for line in ("客户：{{ name }}，年龄 {{ age }}", "邮箱：{{ email }}",
                 "{% if age > 40 %}资深客户{% else %}普通客户{% endif %}"):
        document.add_paragraph(line)
    document.add_paragraph("条款 " * 200)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rows(count: int) -> list[dict[str, Any]]:
    return [{"name": f"客户{i}", "age": 20 + i % 50, "email": f"user{i}@example.com"}
            for i in range(count)]


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (render processes, LibreOffice), each
    counted once (the process's own status used to be read twice: its RSS counted double)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


async def _batch(client: httpx.AsyncClient, templates: list[str], rows: list[dict[str, Any]],
                 fmt: str) -> float:
    body = {"templateIds": templates, "outputFormat": fmt, "data": rows, "mode": "parallel",
            "options": {"concurrency": 8, "batchSize": 32}}
    started = time.perf_counter()
    created = (await client.post("/api/v2/batch/tasks", json=body)).json()
    task_id = created["data"]["taskId"]
    await client.post(f"/api/v2/batch/tasks/{task_id}/start")
    while True:
        task = (await client.get(f"/api/v1/tasks/{task_id}")).json()["data"]
        if task["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    assert task["status"] == "completed", task
    zipped = await client.get(f"/api/v2/batch/tasks/{task_id}/download/zip")
    assert zipped.status_code == 302
    return len(rows) * len(templates) / elapsed


async def run() -> dict[str, float]:
    sources = [_template("销售合同"), _template("采购订单")]
    services = ["registry", "scheduler", "docrender", "gateway"]
    async with isolated_stack(services) as (cluster, url, token):
        await asyncio.sleep(1.5)  # the registry learns docrender can do PDF
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            ids = []
            for index, source in enumerate(sources):
                uploaded = await client.post("/api/v2/templates",
                                             files={"file": (f"t{index}.docx", source)})
                ids.append(uploaded.json()["data"]["templateId"])
            docrender = next(h for h in cluster.handles if h.name == "docrender")
            scheduler = next(h for h in cluster.handles if h.name == "scheduler")
            await _batch(client, ids, _rows(100), "docx")  # warm-up, small batch
            small = (_rss_mb(docrender.pid), _rss_mb(scheduler.pid))
            docx_rate = await _batch(client, ids, _rows(ROWS), "docx")
            large = (_rss_mb(docrender.pid), _rss_mb(scheduler.pid))
            pdf_rate = await pdf_batch(client, ids[0], _rows(PDF_ROWS))
    peer_rate = await celery_docs_per_s(sources, _rows(ROWS))
    office_rate = await direct_office(sources[0], _rows(PDF_ROWS))
    figures = {
        "docx_e2e_docs_per_s": docx_rate, "docx_celery_docs_per_s": peer_rate,
        "docx_ratio_vs_celery": docx_rate / peer_rate,
        "docrender_rss_mb_100_rows": small[0], "docrender_rss_mb_1000_rows": large[0],
        "scheduler_rss_mb_100_rows": small[1], "scheduler_rss_mb_1000_rows": large[1],
    }
    print(f"docx: {docx_rate:.1f} docs/s end to end ({ROWS} rows x 2 templates, ZIP included); "
          f"Celery peer (2 prefork workers, docxtpl) {peer_rate:.1f} docs/s; "
          f"ratio {figures['docx_ratio_vs_celery']:.2f}")
    figures.update(report(pdf_rate, office_rate))
    print(f"memory (RSS incl. children): docrender {small[0]:.0f} MB after 100 rows, "
          f"{large[0]:.0f} MB after {ROWS}; scheduler {small[1]:.0f} MB -> {large[1]:.0f} MB")
    return figures
