"""The hourly AI-call counter every codegen instance shares: the 101st call of a user in an
hour is refused (nothing counted), other users are unaffected, and concurrent callers never
get past the limit together."""

from __future__ import annotations

import asyncio
import uuid

from libs.db.engine import create_engine
from services.codegen import repository as repo

LIMIT = 100


async def test_the_101st_call_in_an_hour_is_refused(database_url: str) -> None:
    db = create_engine(database_url, pool_size=10, pre_ping=False)
    user, other = str(uuid.uuid4()), str(uuid.uuid4())

    async def call(who: str) -> int | None:
        async with db.begin() as conn:
            return await repo.count_call(conn, who, LIMIT)

    try:
        answers = await asyncio.gather(*(call(user) for _ in range(LIMIT + 5)))
        counted = sorted(a for a in answers if a is not None)
        assert counted == list(range(1, LIMIT + 1))
        assert answers.count(None) == 5
        assert await call(user) is None
        assert await call(other) == 1
    finally:
        await db.dispose()
