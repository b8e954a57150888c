"""Per-sender-number sending rates, in segments per second (DESIGN §2 rule 7a).

Both limiters use GCRA reservations: each caller reserves the next free slot of the
number and waits until it comes, so sends are spaced evenly and a number never sends
faster than its rate, however many workers share it. Redis holds the schedule when
several processes send from the same numbers; otherwise it lives in this process.
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


class RateLimiter(Protocol):
    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        """Reserve a slot; returns the seconds to wait before sending in it."""
        ...

    async def aclose(self) -> None: ...


async def wait_for_slot(
    limiter: RateLimiter, number: str, segments: int, rate_per_second: float
) -> None:
    delay = await limiter.reserve(number, segments, rate_per_second)
    if delay > 0:
        await asyncio.sleep(delay)


def _spacing(segments: int, rate_per_second: float) -> float:
    return max(segments, 1) / rate_per_second * SPACING_MARGIN


class LocalRateLimiter:
    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}

    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        now = time.monotonic()
        slot = max(self._next_free.get(number, now), now)
        self._next_free[number] = slot + _spacing(segments, rate_per_second)
        return slot - now

    async def aclose(self) -> None:
        return None


# KEYS[1]: the number's schedule; ARGV[1]: spacing in microseconds. Redis's own clock is
# used so that workers on machines with different clocks agree; '%.0f' keeps Lua from
# writing microsecond timestamps in lossy exponent notation.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(next_free, now)
local spacing = tonumber(ARGV[1])
local ttl_ms = math.ceil((slot + spacing - now) / 1000) + 1000
local next_slot = string.format('%.0f', slot + spacing)
redis.call('SET', KEYS[1], next_slot, 'PX', string.format('%.0f', ttl_ms))
return slot - now
"""


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)
        self._script = self._redis.register_script(_RESERVE)

    async def reserve(self, number: str, segments: int, rate_per_second: float) -> float:
        spacing_us = int(_spacing(segments, rate_per_second) * 1_000_000)
        wait_us = await self._script(keys=[f"parley:rate:{number}"], args=[spacing_us])
        return int(wait_us) / 1_000_000

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else LocalRateLimiter()
