"""When to try a text again after a transient failure."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 5.0
    cap_seconds: float = 900.0


def retry_delay(
    policy: RetryPolicy, attempt: int, jitter: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before attempt `attempt + 1`.

    Exponential from `base_seconds`, capped, with "full jitter" (`jitter` in [0, 1),
    drawn by the caller) so that texts that failed together do not retry together; never
    sooner than the provider's Retry-After.
    """
    ceiling = min(policy.cap_seconds, math.ldexp(policy.base_seconds, attempt - 1))
    delay = ceiling / 2 + ceiling / 2 * jitter
    return max(delay, retry_after or 0.0)


def should_give_up(policy: RetryPolicy, attempt: int) -> bool:
    return attempt >= policy.max_attempts
