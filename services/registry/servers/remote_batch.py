"""Runs the work of one remote server: each `ProcessItems` message becomes one batch of the
remote protocol (the task's window is the server's batch size, so a message carries up to
batch_size files). Like a local worker it claims the items first (pause and cancel stay exact),
acks only once every item's outcome is confirmed, and writes nothing but presigned uploads:
a redelivered message resubmits the same batch id, which the server answers idempotently.

Before every submission (the only moment URLs are minted) the server must still run the
task's tenant's batches (libs/servers/repository.py: its owner's, or everyone's for the
operator's shared and local servers) and every object must lie under that tenant's root; the
URLs then cover exactly the batch's inputs and outputs, for `presign_ttl_s`, and are logged
per batch as object keys (never the signed query)."""

import asyncio
import hashlib
import posixpath
import time
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.errors import Permanent
from libs.logging import get_logger
from libs.servers import repository as servers
from libs.servers.model import Viewer
from libs.storage import Storage
from libs.tasks import readers
from libs.tasks.claims import claim
from libs.worker.reporter import ResultReporter
from proto.remote import BatchFile, BatchState, BatchStatus, FileState, SubmitBatch
from proto.work import FinalizeTask, ItemResult, Outcome, ProcessItems, WorkItem, WorkMessage
from services.registry.servers.remote_client import BatchUnknown, Refused, RemoteClient, Unreachable

log = get_logger(__name__)

FINAL = (FileState.DONE, FileState.FAILED)


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    poll_interval_s: float
    presign_ttl_s: int  # how long a remote server may take to fetch and upload a batch
    operator_tenant: str  # whose admins own the servers with no owner tenant
    keepalive_s: float  # while a server is unreachable, extend the items' leases this often
    task_check_every_s: float = 5.0  # notice a cancelled task this soon


def batch_id(task_id: str, items: list[WorkItem]) -> str:
    """The same message (items at their attempts) always makes the same batch: a redelivery
    resubmits it and the server recognises it instead of running the files again."""
    digest = hashlib.sha256(",".join(f"{i.seq}:{i.attempt}" for i in items).encode())
    return f"{task_id}-{digest.hexdigest()[:16]}"


class RemoteBatchRunner:
    def __init__(self, server: str, client: RemoteClient, db: AsyncEngine, storage: Storage,
                 reporter: ResultReporter, settings: BridgeSettings) -> None:
        self._server = server
        self._client = client
        self._db = db
        self._storage = storage
        self._reporter = reporter
        self._settings = settings

    async def __call__(self, work: WorkMessage, message: AbstractIncomingMessage) -> None:
        if isinstance(work, FinalizeTask):
            raise Permanent("server batches have no finalize step")
        async with self._db.begin() as conn:
            claimed = await claim(conn, work.task_id, work.items,
                                  redelivered=bool(message.redelivered))
        released = [ItemResult(task_id=work.task_id, seq=i.seq, attempt=i.attempt,
                               outcome=Outcome.RELEASED)
                    for i in work.items if i.seq not in claimed]
        if released:
            await self._reporter.report(released)
        items = [i for i in work.items if i.seq in claimed]
        if items:
            # Files are reported as they finish, so the task's window refills while the rest
            # of the batch runs; the message is acked once every file is reported.
            await self._reporter.report(await self._run(work, items))

    async def _refusal(self, work: ProcessItems, items: list[WorkItem]) -> str | None:
        """Why this server may not be handed these files, if it may not."""
        async with self._db.connect() as conn:
            allowed = await servers.runs_for(conn, self._server, Viewer(
                tenant_id=work.tenant_id, operator_tenant=self._settings.operator_tenant))
        if not allowed:
            return f"server {self._server} does not run this tenant's batches"
        root = f"files/{work.tenant_id}/"
        if any(not str(i.payload.get(key, "")).startswith(root)
               for i in items for key in ("input_key", "output_key")):
            return "a file of the batch lies outside its tenant's files"
        return None

    def _batch(self, work: ProcessItems, items: list[WorkItem], bid: str) -> SubmitBatch:
        workflow: dict[str, Any] = work.params["workflow"]
        ttl = self._settings.presign_ttl_s
        log.info("remote.batch_presigned", server=self._server, batch=bid, task_id=work.task_id,
                 tenant_id=work.tenant_id, expires_in_s=ttl,
                 objects=[f"{method} {item.payload[key]}" for item in items
                          for method, key in (("GET", "input_key"), ("PUT", "output_key"))])
        return SubmitBatch(batch_id=bid, workflow=workflow["name"],
                           options=work.params.get("options", {}), files=[
            BatchFile(id=str(item.seq), name=posixpath.basename(item.payload["file"]),
                      input_url=self._storage.presigned_get(item.payload["input_key"], ttl_s=ttl),
                      output_url=self._storage.presigned_put(item.payload["output_key"],
                                                             ttl_s=ttl),
                      output_name=posixpath.basename(item.payload["output"]),
                      output_content_type=workflow.get("content_type",
                                                       "application/octet-stream"))
            for item in items])

    async def _run(self, work: ProcessItems, items: list[WorkItem]) -> list[ItemResult]:
        """Drive the batch to its end; report files as they finish and return the outcomes
        of those still unreported at the end."""
        bid = batch_id(work.task_id, work.items)  # the message's: a redelivery finds it
        started = time.monotonic()
        progressed = kept_alive = task_checked = started
        submitted = False
        pending = list(items)
        while True:
            now = time.monotonic()
            if now - task_checked >= self._settings.task_check_every_s:
                task_checked = now
                if not await self._task_unfinished(work):
                    await self._cancel_quietly(bid)
                    return []  # cancelled or failed meanwhile: its items are settled already
            if not submitted and (refusal := await self._refusal(work, pending)):
                log.warning("remote.batch_refused", server=self._server, batch=bid,
                            task_id=work.task_id, tenant_id=work.tenant_id, reason=refusal)
                return self._failed(work, pending, refusal, retryable=False)
            try:
                state = await (self._client.status(bid) if submitted else
                               self._client.submit(self._batch(work, pending, bid)))
                submitted = True
            except BatchUnknown:
                log.warning("remote.batch_unknown", server=self._server, batch=bid)
                submitted = False  # the server lost it (a restart): submit again
                await asyncio.sleep(self._settings.poll_interval_s)
                continue
            except Unreachable as exc:
                if now - kept_alive >= self._settings.keepalive_s:
                    kept_alive = now  # waiting for the server is not a dead worker
                    await self._progress(work, pending, None)
                log.info("remote.unreachable", server=self._server, error=str(exc))
                await asyncio.sleep(max(self._settings.poll_interval_s, 1.0))
                continue
            except Refused as exc:
                log.warning("remote.refused", server=self._server, error=str(exc))
                return self._failed(work, pending, f"server {self._server} refused the batch: "
                                                   f"{exc}", retryable=False)
            if state.status != BatchState.RUNNING:
                return await self._outcomes(work, pending, state, started)
            final = {f.id for f in state.files if f.status in FINAL}
            finished = [i for i in pending if str(i.seq) in final]
            if finished:
                pending = [i for i in pending if str(i.seq) not in final]
                progressed = kept_alive = now
                await self._reporter.report(await self._outcomes(work, finished, state, started))
                if not pending:
                    return []
                await self._progress(work, pending, f"{self._server}: {len(items) - len(pending)}"
                                                    f"/{len(items)} files of this batch done")
            elif now - progressed > work.item_timeout_s:
                await self._cancel_quietly(bid)
                return self._failed(work, pending, f"server {self._server} made no progress for "
                                                   f"{work.item_timeout_s}s", retryable=True)
            await asyncio.sleep(self._settings.poll_interval_s)

    async def _outcomes(self, work: ProcessItems, items: list[WorkItem], state: BatchStatus,
                        started: float) -> list[ItemResult]:
        by_id = {f.id: f for f in state.files}
        duration_ms = int((time.monotonic() - started) * 1000)
        results = []
        for item in items:
            def result(outcome: Outcome, item: WorkItem = item, **fields: Any) -> ItemResult:
                return ItemResult(task_id=work.task_id, seq=item.seq, attempt=item.attempt,
                                  outcome=outcome, duration_ms=duration_ms, **fields)

            reported = by_id.get(str(item.seq))
            if reported is None or reported.status not in FINAL:
                results.append(result(Outcome.FAILED, retryable=True,
                                      error=f"server {self._server} did not finish the file"))
            elif reported.status == FileState.FAILED:
                results.append(result(Outcome.FAILED, retryable=reported.retryable,
                                      error=reported.error or "failed on the remote server"))
            else:
                size = await self._uploaded_size(item.payload["output_key"])
                if size is None or reported.output_bytes not in (None, size):
                    results.append(result(Outcome.FAILED, retryable=True, error=(
                        f"server {self._server} reported {reported.output_bytes} bytes done, "
                        f"storage holds {size}")))
                    continue
                results.append(result(Outcome.DONE, usage={"files": 1, "bytes": size}, result={
                    "file": item.payload["file"], "output": item.payload["output"],
                    "size": size}))
        return results

    async def _uploaded_size(self, key: str) -> int | None:
        try:
            return await self._storage.size(key)
        except Exception:
            return None

    def _failed(self, work: ProcessItems, items: list[WorkItem], error: str, *,
                retryable: bool) -> list[ItemResult]:
        return [ItemResult(task_id=work.task_id, seq=i.seq, attempt=i.attempt,
                           outcome=Outcome.FAILED, error=error, retryable=retryable)
                for i in items]

    async def _progress(self, work: ProcessItems, items: list[WorkItem],
                        step: str | None) -> None:
        """A progress report extends the items' leases (and sets the task's step)."""
        await self._reporter.report([
            ItemResult(task_id=work.task_id, seq=i.seq, attempt=i.attempt,
                       outcome=Outcome.PROGRESS, step=step) for i in items])

    async def _task_unfinished(self, work: ProcessItems) -> bool:
        async with self._db.connect() as conn:
            task = await readers.get_task(conn, work.task_id, tenant_id=work.tenant_id)
        return task is not None and not task.status.finished

    async def _cancel_quietly(self, bid: str) -> None:
        try:
            await self._client.cancel(bid)
        except (Unreachable, Refused) as exc:
            log.info("remote.cancel_failed", server=self._server, batch=bid, error=str(exc))
