"""Runs the Celery peer once: starts 2 prefork workers (late acks), publishes one task per
(template, row), waits until every document is written, prints {"docs_per_s": ...} as JSON.

Usage (inside bench/.peer-venv): python driver.py BROKER_URL JOB_JSON OUT_DIR"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    broker, job_path, out_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    job = json.loads(job_path.read_text())
    env = {**os.environ, "PEER_BROKER_URL": broker, "PYTHONPATH": str(HERE)}
    sys.path.insert(0, str(HERE))
    os.environ["PEER_BROKER_URL"] = broker
    from tasks import render  # after the broker URL is in the environment

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--concurrency", "2",
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"], cwd=HERE, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        # Warm-up: the workers are up and have imported docxtpl once the first files appear.
        warm = out_dir / "warm"
        warm.mkdir(parents=True, exist_ok=True)
        for i in range(4):
            render.delay(job["templates"][0], job["rows"][0], str(warm / f"{i}.docx"))
        _wait(warm, 4, 120)
        target = out_dir / "run"
        target.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        count = 0
        for t_index, template in enumerate(job["templates"]):
            for r_index, row in enumerate(job["rows"]):
                render.delay(template, row, str(target / f"{t_index}-{r_index:06d}.docx"))
                count += 1
        _wait(target, count, 1800)
        elapsed = time.perf_counter() - started
        print(json.dumps({"docs_per_s": count / elapsed, "documents": count,
                          "seconds": elapsed}))
    finally:
        worker.terminate()
        worker.wait(30)


def _wait(folder: Path, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while sum(1 for _ in folder.iterdir()) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"peer: only {sum(1 for _ in folder.iterdir())}/{count} documents")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
