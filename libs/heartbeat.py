"""Every service process announces itself to the registry and keeps announcing; the registry
marks it offline when it falls silent. A clean stop sends a last `stopping` beat."""

import asyncio
import contextlib
import os
import socket
from datetime import UTC, datetime
from typing import Any

import msgspec

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from libs.settings import CommonSettings
from proto.registry import Heartbeat
from proto.topology import Exchange, Queue

log = get_logger(__name__)


class Heartbeater:
    def __init__(
        self, publisher: Publisher, settings: CommonSettings, service: str,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        self._publisher = publisher
        self._interval = settings.heartbeat_interval_s
        self._beat = Heartbeat(
            instance_id=settings.instance(service),
            service=service,
            name=settings.instance_name or service,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=datetime.now(UTC),
            capabilities=capabilities or {},
            interval_s=self._interval,
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def instance_id(self) -> str:
        return self._beat.instance_id

    async def _send(self, beat: Heartbeat) -> None:
        await self._publisher.publish(
            Outgoing(
                Exchange.REGISTRY, Queue.HEARTBEATS, beat, persistent=False,
                expiration_s=max(self._interval * 3, 5),
            )
        )

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._send(self._beat)
            except Exception as exc:  # broker away: the next beat will do
                log.warning("heartbeat.failed", error=repr(exc))

    async def start(self) -> None:
        """Send the first beat now, then keep beating in the background."""
        with contextlib.suppress(Exception):  # broker away: the loop's next beat will do
            await self._send(self._beat)
        self._task = asyncio.create_task(self._loop(), name="heartbeat")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._send(msgspec.structs.replace(self._beat, stopping=True))

