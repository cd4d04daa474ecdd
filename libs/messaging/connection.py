"""The broker connection: robust (reconnects, re-declares, re-consumes by itself)."""

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from libs.logging import get_logger
from libs.messaging.topology import declare_exchanges

log = get_logger(__name__)


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    connection = await aio_pika.connect_robust(url, client_properties={"connection_name": name})
    connection.reconnect_callbacks.add(lambda *_: log.warning("amqp.reconnected"))
    connection.close_callbacks.add(lambda *_: log.warning("amqp.connection_lost"))
    channel = await connection.channel()
    await declare_exchanges(channel)
    await channel.close()
    return connection
