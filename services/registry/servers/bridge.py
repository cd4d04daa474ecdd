"""The bridge: for every registered remote server, a consumer of its own work queue
(`server.<name>.items`) that runs the messages over the remote protocol. The set follows the
registrations (synced by the watch loop each round)."""

from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from libs.messaging.consumer import consume
from libs.messaging.topology import declare_work_queue
from libs.netguard import UrlPolicy
from libs.storage import Storage
from libs.tasks.kinds import SERVER_BATCH
from libs.worker.reporter import ResultReporter
from proto.topology import server_route
from proto.work import WorkMessage
from services.registry.servers.remote_batch import BridgeSettings, RemoteBatchRunner
from services.registry.servers.remote_client import RemoteClient

log = get_logger(__name__)

# Files are reported as they finish, so a task's window refills with smaller batches while
# the first still runs: take as many messages as a window can hold (the task's window, not
# this, bounds the files in flight).
PREFETCH = SERVER_BATCH.max_concurrency


@dataclass
class _Consumer:
    url: str
    channel: AbstractChannel
    queue: AbstractQueue
    tag: str
    client: RemoteClient


class RemoteBridge:
    def __init__(self, connection: AbstractRobustConnection, db: AsyncEngine, storage: Storage,
                 reporter: ResultReporter, policy: UrlPolicy, settings: BridgeSettings,
                 timeout_s: float) -> None:
        self._connection = connection
        self._db = db
        self._storage = storage
        self._reporter = reporter
        self._policy = policy
        self._settings = settings
        self._timeout_s = timeout_s
        self._consumers: dict[str, _Consumer] = {}

    async def sync(self, remotes: dict[str, str]) -> None:
        """Consume the queue of each remote server in `remotes` (name -> URL), and only those."""
        for name in list(self._consumers):
            if remotes.get(name) != self._consumers[name].url:
                await self._stop(name)
        for name, url in remotes.items():
            if name not in self._consumers:
                await self._start(name, url)

    async def _start(self, name: str, url: str) -> None:
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await declare_work_queue(channel, server_route(name))
        client = RemoteClient(url, self._policy, self._timeout_s)
        runner = RemoteBatchRunner(name, client, self._db, self._storage, self._reporter,
                                   self._settings)
        tag = await consume(queue, WorkMessage, runner)
        self._consumers[name] = _Consumer(url, channel, queue, tag, client)
        log.info("bridge.started", server=name, queue=queue.name)

    async def _stop(self, name: str) -> None:
        consumer = self._consumers.pop(name)
        try:
            await consumer.queue.cancel(consumer.tag)
            await consumer.channel.close()  # unacked messages go back to the queue
        finally:
            await consumer.client.close()
        log.info("bridge.stopped", server=name)

    async def close(self) -> None:
        for name in list(self._consumers):
            await self._stop(name)
