"""Wrong tokens per address and minute (services/gateway/auth/failures.py), on a fake clock."""

from services.gateway.auth.failures import FailedTokens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_plus_one_waits_until_the_oldest_second_leaves_the_minute() -> None:
    clock = Clock()
    failures = FailedTokens(3, clock=clock)
    assert [failures.fail("10.0.0.1") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert failures.fail("10.0.0.1") == 40
    assert failures.fail("10.0.0.2") is None, "another address has its own count"
    clock.now += 40
    assert failures.fail("10.0.0.1") is None, "a minute after, the slate is clean"


def test_addresses_are_bounded_and_zero_turns_it_off() -> None:
    failures = FailedTokens(1, max_addresses=2, clock=Clock())
    for address in ("a", "b", "c"):
        assert failures.fail(address) is None
    assert failures.fail("a") is None, "the least recent was forgotten"
    assert failures.fail("c") == 60
    off = FailedTokens(0, clock=Clock())
    assert all(off.fail("a") is None for _ in range(100))
