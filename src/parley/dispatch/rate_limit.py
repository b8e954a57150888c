"""Per-sender-number sending rates, in segments per second (DESIGN §2 rule 7a).

Both limiters use GCRA reservations: each caller reserves the next free slot of the
number and waits until it comes, so sends are spaced evenly and a number never sends
faster than its rate, however many workers share it. Redis holds the schedule when
several processes send from the same numbers; otherwise it lives in this process.

What the provider counts is when a text arrives, so a text that leaves late arrives
close to the ones after it. The wait therefore ends with the connection to the provider
in hand (`approach_slot`, then `SmsProvider.send`'s `leave_at`): opening one, a TCP and
a TLS handshake, happens before the slot instead of after it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis

# Sends are spaced 5% wider than the rate allows: a send that wakes or travels a few tens
# of milliseconds late (a busy event loop, the network) must not bring it and a later
# one closer together than the carrier counts them. Measured: at 2% a loaded 2-core
# machine let 11 of a 10/s number's texts arrive within one second.
SPACING_MARGIN = 1.05

# A number is quiet once its schedule has been free this long. The first text after a
# quiet spell leaves at once, when its connection may still have to be opened, so the
# next waits this head start more than the rate asks.
QUIET_SECONDS = 1.0
HEAD_START_SECONDS = 0.2

# A text stops sleeping this long before its slot (at most one spacing, so that a
# number keeps about one connection waiting) and waits out the rest connected.
MAX_LEAD_SECONDS = 0.25


class RateLimiter(Protocol):
    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        """Reserve a slot; returns the seconds to wait before sending in it."""
        ...

    async def aclose(self) -> None: ...


async def approach_slot(
    limiter: RateLimiter, number: str, segments: int, rate_per_second: float
) -> float:
    """Reserve the number's next slot and sleep until shortly before it.

    Returns the slot on `time.monotonic()`'s clock: the moment the text is to leave.
    """
    delay = await limiter.reserve(number, segments, rate_per_second)
    slot = time.monotonic() + delay
    lead = min(_spacing(segments, rate_per_second), MAX_LEAD_SECONDS)
    if delay > lead:
        await asyncio.sleep(delay - lead)
    return slot


def _spacing(segments: int, rate_per_second: float) -> float:
    return max(segments, 1) / rate_per_second * SPACING_MARGIN


class LocalRateLimiter:
    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}

    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        now = time.monotonic()
        next_free = self._next_free.get(number, now - QUIET_SECONDS)
        slot = max(next_free, now)
        spacing = _spacing(segments, rate_per_second)
        if now - next_free >= QUIET_SECONDS:
            spacing += HEAD_START_SECONDS
        self._next_free[number] = slot + spacing
        return slot - now

    async def aclose(self) -> None:
        return None


# KEYS[1]: the number's schedule; ARGV: spacing, quiet spell and head start, in
# microseconds. The schedule is kept until the number is quiet: a number without one is.
# Redis's own clock is used so that workers on machines with different clocks agree;
# '%.0f' keeps Lua from writing microsecond timestamps in lossy exponent notation.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local quiet = tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(next_free, now)
local spacing = tonumber(ARGV[1])
if now - next_free >= quiet then
    spacing = spacing + tonumber(ARGV[3])
end
local ttl_ms = math.ceil((slot + spacing + quiet - now) / 1000)
local next_slot = string.format('%.0f', slot + spacing)
redis.call('SET', KEYS[1], next_slot, 'PX', string.format('%.0f', ttl_ms))
return slot - now
"""


_QUIET_US = int(QUIET_SECONDS * 1_000_000)
_HEAD_START_US = int(HEAD_START_SECONDS * 1_000_000)


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)
        self._script = self._redis.register_script(_RESERVE)

    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        spacing_us = int(_spacing(segments, rate_per_second) * 1_000_000)
        wait_us = await self._script(
            keys=[f"parley:rate:{number}"], args=[spacing_us, _QUIET_US, _HEAD_START_US]
        )
        return int(wait_us) / 1_000_000

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else LocalRateLimiter()
