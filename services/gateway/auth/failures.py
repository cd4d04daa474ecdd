"""Wrong bearer tokens, counted per client address: past `limit` in the last minute the
address's wrong tokens are answered 429 with Retry-After instead of 401. Only failures count
and a valid token is checked before the count is looked at, so a valid token always passes,
even from an address that is being refused (a user behind the same NAT as a guesser).

The count is exact to the second: one counter per second per address, the last 60 kept.
Addresses are bounded (`max_addresses`, the least recently failing forgotten first), so a
flood of addresses costs memory in proportion to the bound, not to the flood. Each gateway
process counts its own (with several workers an address gets `limit` per worker)."""

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_S = 60


class FailedTokens:
    def __init__(self, limit: int, *, max_addresses: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._max_addresses = max_addresses
        self._clock = clock
        self._seconds: OrderedDict[str, deque[list[int]]] = OrderedDict()

    def _recent(self, address: str, now: int) -> deque[list[int]]:
        buckets = self._seconds.get(address)
        if buckets is None:
            buckets = self._seconds[address] = deque()
            while len(self._seconds) > self._max_addresses:
                self._seconds.popitem(last=False)
        while buckets and buckets[0][0] <= now - WINDOW_S:
            buckets.popleft()
        return buckets

    def fail(self, address: str) -> int | None:
        """Count a wrong token from `address`; the seconds to wait when it is one too many
        (None: answer 401 as usual). The limit 0 turns counting off."""
        if self._limit <= 0:
            return None
        now = math.floor(self._clock())
        buckets = self._recent(address, now)
        self._seconds.move_to_end(address)
        if sum(count for _, count in buckets) >= self._limit:
            # Refused failures do not count: waiting the minute out is enough.
            return max(1, buckets[0][0] + WINDOW_S - now)
        if buckets and buckets[-1][0] == now:
            buckets[-1][1] += 1
        else:
            buckets.append([now, 1])
        return None
