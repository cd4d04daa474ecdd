"""The keys' use cases for the middleware: each opens its own short transaction (the handler's
own work, and the task it records under the key, commit in between)."""

import random

from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.idempotency import repository as repo

_CLEANUP_CHANCE = 0.02  # a claim now and then also drops expired keys


class IdempotencyKeys:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def claim(self, owner: repo.Claim, fingerprint: str) -> repo.Remembered | None:
        async with self._db.begin() as conn:
            earlier = await repo.claim(conn, owner, fingerprint)
            if earlier is None and random.random() < _CLEANUP_CHANCE:
                await repo.forget_expired(conn)
            return earlier

    async def settle(self, owner: repo.Claim, status: int, content_type: str,
                     response: bytes | None) -> None:
        """Store a 2xx answer (None: too large to replay); any other answer releases the key."""
        async with self._db.begin() as conn:
            if 200 <= status < 300:
                if response is not None:
                    await repo.record_response(conn, owner, status, content_type, response)
            else:
                await repo.release(conn, owner)

    async def release(self, owner: repo.Claim) -> None:
        async with self._db.begin() as conn:
            await repo.release(conn, owner)
