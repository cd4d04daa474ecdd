"""Weighted max-min fair shares, as pure arithmetic (no I/O): how many new items each
claimant may start when the claimants want more than the free credit.

Each claimant already holds `held` slots and could use up to `cap` in all. Shares are filled
like water: a common level L rises until the credit is used, every claimant ending at
min(cap, max(held, weight x L)). Nobody is preempted (a claimant above its share keeps what
it holds and only gets nothing more), so what the others hold above their share comes back to
the rest as their items finish."""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Claim(Generic[K]):
    key: K
    weight: float
    held: int
    cap: int  # held + what it could start now, after its limits


def _total_at(level: float, claims: Sequence[Claim[K]]) -> float:
    return sum(min(c.cap, max(c.held, c.weight * level)) for c in claims)


def allot(credit: int, claims: Sequence[Claim[K]]) -> dict[K, int]:
    """New slots per claimant: their sum is at most `credit` minus what is held, and each
    claimant gets at most cap - held."""
    claims = [c for c in claims if c.weight > 0]
    held = sum(c.held for c in claims)
    free = credit - held
    if free <= 0 or not claims:
        return {c.key: 0 for c in claims}
    if sum(max(c.cap, c.held) for c in claims) <= credit:  # room for everyone
        return {c.key: max(0, c.cap - c.held) for c in claims}
    low, high = 0.0, max((c.cap / c.weight for c in claims), default=0.0)
    for _ in range(60):  # bisection on the level: 60 halvings are far below one slot
        mid = (low + high) / 2
        if _total_at(mid, claims) <= credit:
            low = mid
        else:
            high = mid
    exact = {c.key: min(c.cap, max(c.held, c.weight * low)) - c.held for c in claims}
    granted = {key: int(value) for key, value in exact.items()}
    # The fractions left over go, one slot each, to the largest remainders (then the lightest
    # holders), so the whole free credit is used.
    spare = free - sum(granted.values())
    by_remainder = sorted(claims, key=lambda c: (-(exact[c.key] - granted[c.key]),
                                                 c.held / c.weight))
    for claim in by_remainder:
        if spare <= 0:
            break
        if claim.held + granted[claim.key] < claim.cap:
            granted[claim.key] += 1
            spare -= 1
    return granted
