"""The servers' watch loop, every `health_interval_s`:

1. the bridge follows the registered remote servers;
2. each remote server's `/health` is checked and the verdict stored;
3. a server whose status changed is announced (`server.<name>.<status>` events);
4. a server that holds a running task but is not online makes the task say so: the registry
   reports the task's in-flight items as waiting (a progress report: it sets the task's
   current step and extends the items' leases, so files queued for a server that went away
   wait for it instead of being retried against it), again every `waiting_report_every_s`;
   when the server is back the step says so and its own reports take over.
"""

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from libs.netguard import UrlPolicy
from libs.servers import repository as repo
from libs.servers.model import Server, ServerStatus
from libs.tasks import readers
from libs.tasks.model import TaskStatus, utcnow
from libs.worker.reporter import ResultReporter
from proto.events import ServerStatusChanged
from proto.work import ItemResult, Outcome
from services.registry.servers.bridge import RemoteBridge
from services.registry.servers.remote_client import HealthVerdict, RemoteClient

log = get_logger(__name__)


class ServerWatch:
    def __init__(self, db: AsyncEngine, publisher: Publisher, reporter: ResultReporter,
                 bridge: RemoteBridge, policy: UrlPolicy, *, interval_s: float,
                 timeout_s: float, offline_after: int, waiting_report_every_s: float) -> None:
        self._db = db
        self._publisher = publisher
        self._reporter = reporter
        self._bridge = bridge
        self._policy = policy
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._offline_after = offline_after
        self._waiting_every_s = waiting_report_every_s
        self._clients: dict[str, RemoteClient] = {}
        self._last_status: dict[str, ServerStatus] = {}
        self._last_waiting: dict[str, float] = {}

    async def run_forever(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:
                log.exception("servers.watch_failed")
            await asyncio.sleep(self._interval_s)

    async def round(self) -> None:
        async with self._db.connect() as conn:
            remotes = await repo.remote_urls(conn)
        await self._bridge.sync(remotes)
        verdicts = await asyncio.gather(*(self._check(name, url)
                                          for name, url in remotes.items()))
        async with self._db.begin() as conn:
            for (name, url), verdict in zip(remotes.items(), verdicts, strict=True):
                await repo.record_health(conn, name, url, status=verdict.status,
                                         capabilities=verdict.capabilities, error=verdict.error,
                                         offline_after=self._offline_after)
        async with self._db.connect() as conn:
            servers = await repo.every_server(conn)
        await self._announce(servers)
        for server in servers:
            await self._report_waiting(server)
        self._last_status = {server.name: server.status for server in servers}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    async def _check(self, name: str, url: str) -> HealthVerdict:
        client = self._clients.get(name)
        if client is None or client.base_url != url:
            if client is not None:
                await client.close()
            client = self._clients[name] = RemoteClient(url, self._policy, self._timeout_s)
        return await client.health()

    async def _announce(self, servers: list[Server]) -> None:
        changed = [s for s in servers if self._last_status.get(s.name) != s.status]
        for server in changed:
            log.info("server.status", server=server.name, status=server.status,
                     previous=self._last_status.get(server.name), error=server.problem)
        await self._publisher.publish_many(
            Outgoing.event(ServerStatusChanged(
                name=s.name, server_type=s.type.value, status=s.status.value,
                occurred_at=utcnow().isoformat(), previous=self._last_status.get(s.name),
                current_task_id=s.current_task_id, error=s.problem))
            for s in changed)

    async def _report_waiting(self, server: Server) -> None:
        if server.current_task_id is None or server.current_task_tenant is None:
            return
        previous = self._last_status.get(server.name)
        now = time.monotonic()
        if server.status != ServerStatus.ONLINE:
            due = (previous == ServerStatus.ONLINE or previous is None
                   or now - self._last_waiting.get(server.name, 0.0) >= self._waiting_every_s)
            step = f"服务器 {server.name} 离线，任务等待其恢复后继续（{server.problem}）"
        else:
            due = previous is not None and previous != ServerStatus.ONLINE
            step = f"服务器 {server.name} 已恢复在线，继续处理"
        if not due:
            return
        self._last_waiting[server.name] = now
        await self._report_step(server.current_task_id, server.current_task_tenant, step)

    async def _report_step(self, task_id: str, tenant_id: str, step: str) -> None:
        async with self._db.connect() as conn:
            task = await readers.get_task(conn, task_id, tenant_id=tenant_id)
            if task is None or task.status != TaskStatus.RUNNING:
                return
            # The processing items' leases are what a waiting report extends; with none in
            # flight any item carries the step.
            items = (await readers.get_items(conn, task_id, statuses=("processing",),
                                             limit=1000)
                     or await readers.get_items(conn, task_id, limit=1))
        log.info("server.task_step", task_id=task_id, step=step)
        await self._reporter.report([
            ItemResult(task_id=task_id, seq=item.seq, attempt=item.attempt,
                       outcome=Outcome.PROGRESS, step=step) for item in items])
