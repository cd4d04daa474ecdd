"""The completion verifier: what the soak promises, checked against the database, the object
store, the downloads and the events recorded. Each broken promise is one violation line."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any

import docx
import httpx
import pypdf
from minio import Minio

from bench.soak.env import SoakEnv
from bench.soak.load import Accepted
from bench.soak.recorder import Recorded
from libs.db.engine import create_engine
from libs.tasks import audit

TERMINAL = ("completed", "partial_success", "failed", "cancelled")
SETTLED = ("done", "failed")
SETTLE_WITHIN_S = 600.0  # after the load stops, for every task to end
EVENTS_WITHIN_S = 30.0  # after the last task ends, for its events to arrive


async def wait_until_settled(soak: SoakEnv) -> float:
    """Seconds until every task in the soak's database is terminal (or the limit)."""
    started = time.monotonic()
    db = create_engine(soak.env["CONVEYOR_DATABASE_URL"], pool_size=1)
    try:
        while time.monotonic() - started < SETTLE_WITHIN_S:
            try:
                async with db.connect() as conn:
                    open_ = await audit.unfinished_count(conn)
                if open_ == 0:
                    break
            except Exception:
                pass
            await asyncio.sleep(1)
    finally:
        await db.dispose()
    return time.monotonic() - started


async def verify(soak: SoakEnv, accepted: list[Accepted], recorded: Recorded) -> list[str]:
    db = create_engine(soak.env["CONVEYOR_DATABASE_URL"], pool_size=2)
    try:
        async with db.connect() as conn:
            rows, items = await audit.every_task_and_item(conn)
        tasks = {str(r.id): r for r in rows}
    finally:
        await db.dispose()
    violations: list[str] = []
    by_task: dict[str, list[Any]] = {}
    for item in items:
        by_task.setdefault(str(item.task_id), []).append(item)
    for made in accepted:
        task = tasks.get(made.task_id)
        if task is None:
            violations.append(f"accepted {made.kind} task {made.task_id} does not exist")
        elif task.status not in TERMINAL:
            violations.append(f"task {made.task_id} ({made.kind}) stuck in {task.status}")
    for task_id, task in tasks.items():
        own = by_task.get(task_id, [])
        done = sum(i.status == "done" for i in own)
        failed = sum(i.status == "failed" for i in own)
        if (task.done, task.failed) != (done, failed) or task.inflight:
            violations.append(f"task {task_id}: counters done={task.done} failed={task.failed} "
                              f"inflight={task.inflight}, items done={done} failed={failed}")
        if task.status in TERMINAL and any(i.status in ("dispatched", "running") for i in own):
            violations.append(f"task {task_id} is {task.status} with items still in flight")
        announced = recorded.finished.get(task_id, [])
        if task.status in TERMINAL and task.status != "cancelled" and not announced:
            violations.append(f"task {task_id} ended {task.status}; no event said so")
        if any(status != task.status for status in announced):
            violations.append(f"task {task_id} is {task.status}; its events said {announced}")
    violations += _items_against_events(items, recorded)
    violations += await asyncio.to_thread(_documents, soak, tasks, by_task)
    violations += await _zips(soak, accepted, tasks, by_task)
    return violations


def _items_against_events(items: Sequence[Any], recorded: Recorded) -> list[str]:
    """Every settled item announced once, with its outcome; nothing announced that the
    database did not settle."""
    found: list[str] = []
    settled = {(str(i.task_id), int(i.seq)): i.status for i in items if i.status in SETTLED}
    for key, status in settled.items():
        outcomes = set(recorded.settled.get(key, []))
        if outcomes != {status}:
            found.append(f"item {key[0]}#{key[1]} settled {status}; events said "
                         f"{sorted(outcomes) or 'nothing'}")
    for key, announced in recorded.settled.items():
        if key not in settled:
            found.append(f"item {key[0]}#{key[1]} announced {announced}, not settled in the "
                         "database")
    return found


def _read(storage: Minio, bucket: str, result: dict[str, Any]) -> bytes:
    if "pack" in result:
        response = storage.get_object(bucket, result["pack"], offset=int(result["offset"]),
                                      length=int(result["size"]))
    else:
        response = storage.get_object(bucket, result["key"])
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def _documents(soak: SoakEnv, tasks: dict[str, Any], by_task: dict[str, list[Any]]) -> list[str]:
    """Every document a completed item produced is stored, whole, and opens."""
    env = soak.env
    storage = Minio(env["CONVEYOR_S3_ENDPOINT"], env["CONVEYOR_S3_ACCESS_KEY"],
                    env["CONVEYOR_S3_SECRET_KEY"], secure=False)
    found: list[str] = []
    for task_id, task in tasks.items():
        if task.kind != "documents":
            continue
        for item in by_task.get(task_id, []):
            result = item.result or {}
            if item.status != "done" or not ({"pack", "key"} & set(result)):
                continue
            where = f"document {task_id}#{item.seq} ({result.get('file')})"
            try:
                data = _read(storage, env["CONVEYOR_S3_BUCKET"], result)
            except Exception as exc:
                found.append(f"{where}: cannot be read: {exc}")
                continue
            if "crc" in result and zlib.crc32(data) != int(result["crc"]):
                found.append(f"{where}: stored bytes differ from what was reported")
                continue
            try:
                if str(result.get("file", "")).endswith(".pdf"):
                    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 1
                else:
                    docx.Document(io.BytesIO(data))
            except Exception as exc:
                found.append(f"{where}: does not open: {type(exc).__name__}: {exc}")
    return found


async def _zips(soak: SoakEnv, accepted: list[Accepted], tasks: dict[str, Any],
                by_task: dict[str, list[Any]]) -> list[str]:
    """The ZIP of every completed batch holds exactly its documents."""
    found: list[str] = []
    tokens = soak.tokens
    for made in accepted:
        task = tasks.get(made.task_id)
        if made.kind not in ("docx", "pdf") or task is None or task.status not in (
                "completed", "partial_success"):
            continue
        async with httpx.AsyncClient(base_url=soak.gateway_url, timeout=120, headers={
                "Authorization": f"Bearer {tokens[made.tenant]}"}) as api:
            response = await api.get(f"/api/v2/batch/tasks/{made.task_id}/download/zip")
        if response.status_code != 302:
            found.append(f"ZIP of {made.task_id}: {response.status_code}")
            continue
        async with httpx.AsyncClient(timeout=120) as plain:  # the presigned URL is the grant
            download = await plain.get(response.headers["location"])
        if download.status_code != 200:
            found.append(f"ZIP of {made.task_id}: the presigned URL answered "
                         f"{download.status_code}")
            continue
        try:
            names = set(zipfile.ZipFile(io.BytesIO(download.content)).namelist())
        except zipfile.BadZipFile:
            found.append(f"ZIP of {made.task_id}: not a ZIP ({len(download.content)} bytes)")
            continue
        expected = {str((i.result or {}).get("file")) for i in by_task.get(made.task_id, [])
                    if i.status == "done"}
        if not expected <= names or len(names - expected) > 1:  # one manifest besides
            found.append(f"ZIP of {made.task_id}: {len(names)} entries, "
                         f"{len(expected)} documents done; missing {sorted(expected - names)[:3]}")
    return found
