"""Per-number rate limits hold across limiters that share Redis, and in one process."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from parley.dispatch.rate_limit import (
    SPACING_MARGIN,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    wait_for_slot,
)

REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _redis_or_skip() -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.ConnectionError) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); required under CI")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error})")
    finally:
        await client.aclose()


@pytest.fixture(params=["local", "redis-shared-by-two"])
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[list[RateLimiter]]:
    if request.param == "local":
        shared = LocalRateLimiter()
        yield [shared, shared]
        return
    await _redis_or_skip()
    pair: list[RateLimiter] = [RedisRateLimiter(REDIS_URL), RedisRateLimiter(REDIS_URL)]
    yield pair
    for limiter in pair:
        await limiter.aclose()


async def send_times(
    limiters: list[RateLimiter], number: str, count: int, rate: float, segments: int = 1
) -> list[float]:
    times: list[float] = []

    async def one(limiter: RateLimiter) -> None:
        await wait_for_slot(limiter, number, segments, rate)
        times.append(time.monotonic())

    await asyncio.gather(*(one(limiters[i % len(limiters)]) for i in range(count)))
    return sorted(times)


def most_in_any_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_twenty_sends_at_ten_per_second_never_exceed_ten_in_a_second(
    limiters: list[RateLimiter],
) -> None:
    times = await send_times(limiters, f"+1202555{uuid.uuid4().int % 10000:04d}", 20, 10.0)
    assert most_in_any_second(times) <= 10
    assert times[-1] - times[0] == pytest.approx(19 * 0.1 * SPACING_MARGIN, abs=0.15)


async def test_a_long_text_costs_one_slot_per_segment(limiters: list[RateLimiter]) -> None:
    times = await send_times(limiters, "+12025550999", 3, 20.0, segments=4)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap == pytest.approx(4 / 20 * SPACING_MARGIN, abs=0.05) for gap in gaps)


async def test_numbers_do_not_hold_each_other_up(limiters: list[RateLimiter]) -> None:
    first = await limiters[0].reserve("+12025550001", 1, 1.0)
    other = await limiters[1].reserve("+12025550002", 1, 1.0)
    assert first == pytest.approx(0, abs=0.01)
    assert other == pytest.approx(0, abs=0.01)
