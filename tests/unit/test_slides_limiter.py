"""The shared limiter's adaptive ceiling: halve on a 429, win slots back one per ceiling of
successes, never above the configured limit nor below one."""

from sqlalchemy.ext.asyncio import create_async_engine

from libs.limiter import SharedLimiter


def limiter(limit: int) -> SharedLimiter:
    # The ceiling never touches the database; an engine that never connects is enough.
    return SharedLimiter(create_async_engine("postgresql+asyncpg://unused/unused"), "t", limit)


def test_a_429_halves_the_ceiling_down_to_one() -> None:
    shared = limiter(8)
    assert shared.ceiling == 8
    shared.throttled()
    assert shared.ceiling == 4
    for _ in range(5):
        shared.throttled()
    assert shared.ceiling == 1


def test_successes_restore_the_ceiling_additively_up_to_the_limit() -> None:
    shared = limiter(4)
    shared.throttled()
    shared.throttled()
    assert shared.ceiling == 1
    shared.succeeded()
    assert shared.ceiling == 2
    shared.succeeded()
    shared.succeeded()
    assert shared.ceiling == 2, "at 2 slots, a slot takes about two successes"
    shared.succeeded()
    assert shared.ceiling == 3
    for _ in range(100):
        shared.succeeded()
    assert shared.ceiling == 4 == shared.limit
