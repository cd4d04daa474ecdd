"""The Celery + RabbitMQ peer of the documents benchmark, in its own virtualenv
(bench/.peer-venv, created here on first use, never in Conveyor's lock files)."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.harness import infra

VENV = Path(__file__).resolve().parent / ".peer-venv"
DRIVER = Path(__file__).resolve().parent / "celery_peer" / "driver.py"
# The peer's own pins: Celery as released when this benchmark was written, and the same
# docxtpl/python-docx Conveyor renders with.
PEER_PACKAGES = ["celery==5.7.0", "docxtpl==0.20.2", "python-docx==1.2.0"]


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


async def celery_docs_per_s(templates: list[bytes], rows: list[dict[str, Any]]) -> float:
    """Every (template, row) as one Celery task over a fresh vhost of the same RabbitMQ."""
    python = await asyncio.to_thread(ensure_venv)
    vhost = f"conveyor-bench-peer-{secrets.token_hex(4)}"
    broker = await infra.create_vhost(vhost)
    workdir = Path(tempfile.mkdtemp(prefix="conveyor-peer-"))
    try:
        paths = []
        for index, template in enumerate(templates):
            path = workdir / f"template-{index}.docx"
            path.write_bytes(template)
            paths.append(str(path))
        job = workdir / "job.json"
        job.write_text(json.dumps({"templates": paths, "rows": rows}, ensure_ascii=False))
        done = await asyncio.to_thread(
            subprocess.run, [str(python), str(DRIVER), broker, str(job), str(workdir / "out")],
            check=True, capture_output=True, text=True, timeout=3600)
        return float(json.loads(done.stdout.strip().splitlines()[-1])["docs_per_s"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        await infra.delete_vhost(vhost)
