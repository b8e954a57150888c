"""Request limits per key (a reply token, a client address), in this process."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` requests per key in any `seconds`.

    Each key keeps the times of its requests still in the window, in a list: a deque
    took 820 bytes a key against 130, and a reply-page server meets a new token and
    a new address with almost every request. Keys idle for a whole window are
    forgotten once per window, so memory follows the keys seen in the last two
    windows, and no request pays for a sweep more often than that.
    """

    def __init__(
        self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._hits: dict[str, list[float]] = {}
        self._next_sweep = clock() + seconds

    def allow(self, key: str) -> bool:
        now = self._clock()
        if now >= self._next_sweep:
            self._forget_idle(now)
        hits = self._hits.get(key)
        if hits is None:
            self._hits[key] = [now]
            return True
        # Times only grow, so those gone out of the window are at the front.
        del hits[: bisect_right(hits, now - self.seconds)]
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def __len__(self) -> int:
        """How many keys are remembered: what the memory of the limits follows."""
        return len(self._hits)

    def _forget_idle(self, now: float) -> None:
        oldest = now - self.seconds
        self._hits = {key: hits for key, hits in self._hits.items() if hits[-1] > oldest}
        self._next_sweep = now + self.seconds
