"""The broker connection: robust (reconnects, re-declares, re-consumes by itself), and across
the nodes of a cluster.

`CONVEYOR_AMQP_URL` is one URL or a comma-separated list, one per node of a RabbitMQ cluster.
Every attempt to connect takes the next address in turn, so a connection whose node died comes
back on a live node: aio-pika's robust connection then re-opens its channels, re-declares what
they declared and resumes their consumers. A publish whose confirm was outstanding when the
node died fails to its caller (the outbox relay keeps such messages and sends them again); a
message whose ack was lost with the node is redelivered, and settling it again is a no-op (the
engine applies each item's result once)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aio_pika.robust_connection import RobustConnection
from yarl import URL

from libs.logging import get_logger
from libs.messaging.topology import declare_exchanges

log = get_logger(__name__)

FAILOVER_INTERVAL_S = 0.5  # between attempts, each on the next node
FIRST_CONNECT_TIMEOUT_S = 30.0  # at start, for any node of the list to answer


def broker_urls(setting: str) -> list[str]:
    """The addresses of `CONVEYOR_AMQP_URL`: one URL, or a comma-separated list of them."""
    urls = [part.strip() for part in setting.split(",") if part.strip()]
    if not urls:
        raise ValueError("CONVEYOR_AMQP_URL names no broker")
    return urls


class FailoverConnection(RobustConnection):
    """A robust connection that moves to the next node's address at every connection attempt
    (round robin)."""

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(URL(urls[0]), **kwargs)
        self._urls = [URL(url) for url in urls]
        # Each process starts at a random node: connections, and the quorum queues they
        # declare first (their leader is the declaring node), spread over the cluster.
        self._attempts = random.randrange(len(urls))

    # RobustConnection makes every attempt, first or after a loss, through this (name-mangled)
    # method, and Connection.connect reads `self.url` once per attempt: choosing the address
    # here is the one hook the library leaves for it.
    async def _RobustConnection__connect_transport(self) -> None:
        self.url = self._urls[self._attempts % len(self._urls)]
        self._attempts += 1
        if self.connection_attempt:
            log.info("amqp.connecting", node=f"{self.url.host}:{self.url.port}")
        await super()._RobustConnection__connect_transport()  # type: ignore[misc]


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    urls = broker_urls(url)
    connection: AbstractRobustConnection
    if len(urls) == 1:
        connection = await aio_pika.connect_robust(
            urls[0], client_properties={"connection_name": name})
    else:
        connection = FailoverConnection(urls, client_properties={"connection_name": name},
                                        fail_fast=False, reconnect_interval=FAILOVER_INTERVAL_S)
        # Not failing fast on the first address: the first live node of the list is taken.
        await asyncio.wait_for(connection.connect(), timeout=FIRST_CONNECT_TIMEOUT_S)
    connection.reconnect_callbacks.add(lambda *_: log.warning("amqp.reconnected"))
    connection.close_callbacks.add(lambda *_: log.warning("amqp.connection_lost"))
    channel = await connection.channel()
    await declare_exchanges(channel)
    await channel.close()
    return connection
