"""Revocation reaches every gateway within a second: the revoking side publishes TokenRevoked
on the internal `conveyor.auth` fanout exchange after its commit; each gateway binds its own
queue there, drops the token from its auth cache and closes the token's live streams. The
cache's TTL still bounds a revocation whose notice was lost (a gateway reconnecting)."""

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from libs.logging import get_logger
from libs.messaging.publisher import Outgoing, Publisher
from libs.messaging.topology import declare_broadcast_subscription
from proto.auth import TokenRevoked
from proto.topology import Exchange
from services.gateway.auth.middleware import TokenCache
from services.gateway.stream.hub import EventHub

log = get_logger(__name__)


async def announce_revocation(publisher: Publisher, token_hash: bytes) -> None:
    await publisher.publish(Outgoing(exchange=Exchange.AUTH, routing_key="",
                                     message=TokenRevoked(token_hash=token_hash.hex()),
                                     persistent=False))


class Revocations:
    """A part of the gateway's lifecycle (a `QueueConsumer` of its own queue on the fanout
    exchange): each notice drops the token from the auth cache and ends its live streams."""

    def __init__(self, cache: TokenCache, hub: EventHub) -> None:
        self._cache = cache
        self._hub = hub

    @staticmethod
    async def declare(channel: AbstractChannel) -> AbstractQueue:
        return await declare_broadcast_subscription(channel, Exchange.AUTH)

    async def on_revoked(self, notice: TokenRevoked, _: AbstractIncomingMessage) -> None:
        token_hash = bytes.fromhex(notice.token_hash)
        self._cache.forget(token_hash)
        closed = self._hub.close_token(token_hash)
        log.info("token.revoked", streams_closed=closed)
