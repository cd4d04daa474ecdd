"""The keys' use cases for the middleware: each opens its own short transaction (the handler's
own work, and the task it records under the key, commit in between).

A request that failed because the database was down cannot release its key then: the release
is retried in the background until the database answers, so the client that was told to retry
after a 503 finds its key free rather than "in use" for `IN_PROGRESS_S`."""

import asyncio
import random

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.logging import get_logger
from services.gateway.idempotency import repository as repo

log = get_logger(__name__)

_CLEANUP_CHANCE = 0.02  # a claim now and then also drops expired keys
RELEASE_RETRY_S = 0.25  # how often a deferred release tries the database again
RELEASE_GIVE_UP_S = 60.0  # after this the claim is past IN_PROGRESS_S anyway: reclaimable
MAX_DEFERRED_RELEASES = 10_000  # bounds the memory an outage under load can take


class IdempotencyKeys:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db
        self._deferred: dict[repo.Claim, asyncio.Task[None]] = {}

    async def claim(self, owner: repo.Claim, fingerprint: str) -> repo.Remembered | None:
        async with self._db.begin() as conn:
            earlier = await repo.claim(conn, owner, fingerprint)
            if earlier is None and random.random() < _CLEANUP_CHANCE:
                await repo.forget_expired(conn)
            return earlier

    async def settle(self, owner: repo.Claim, status: int, content_type: str,
                     response: bytes | None) -> None:
        """Store a 2xx answer (None: too large to replay); any other answer releases the key.
        Never raises: the answer goes to the client whatever happens to its key (a 2xx whose
        answer could not be stored replays by running the route again, which finds the task
        recorded under the key)."""
        if not 200 <= status < 300:
            await self.release(owner)
            return
        if response is None:
            return
        try:
            async with self._db.begin() as conn:
                await repo.record_response(conn, owner, status, content_type, response)
        except Exception as exc:
            log.warning("idempotency.store_failed", error=type(exc).__name__)

    async def release(self, owner: repo.Claim) -> None:
        """Free the key of a request that created nothing; if the database is down, keep
        trying in the background."""
        try:
            await self._release(owner)
        except Exception as exc:
            self._defer_release(owner, exc)

    async def _release(self, owner: repo.Claim) -> None:
        async with self._db.begin() as conn:
            await repo.release(conn, owner)

    def _defer_release(self, owner: repo.Claim, exc: Exception) -> None:
        if owner in self._deferred or len(self._deferred) >= MAX_DEFERRED_RELEASES:
            return
        log.warning("idempotency.release_deferred", error=type(exc).__name__)
        task = asyncio.get_running_loop().create_task(self._retry_release(owner))
        self._deferred[owner] = task
        task.add_done_callback(lambda _: self._deferred.pop(owner, None))

    async def _retry_release(self, owner: repo.Claim) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + RELEASE_GIVE_UP_S
        while loop.time() < give_up:
            await asyncio.sleep(RELEASE_RETRY_S)
            try:
                await self._release(owner)
                return
            except Exception:
                continue
