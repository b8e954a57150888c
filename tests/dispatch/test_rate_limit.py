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
    HEAD_START_SECONDS,
    QUIET_SECONDS,
    SPACING_MARGIN,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    approach_slot,
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
        slot = await approach_slot(limiter, number, segments, rate)
        await asyncio.sleep(slot - time.monotonic())  # as the provider does, connected
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
    expected = 19 * 0.1 * SPACING_MARGIN + HEAD_START_SECONDS
    assert times[-1] - times[0] == pytest.approx(expected, abs=0.15)


async def test_a_long_text_costs_one_slot_per_segment(limiters: list[RateLimiter]) -> None:
    times = await send_times(limiters, f"+1202556{uuid.uuid4().int % 10000:04d}", 3, 20.0, 4)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    spacing = 4 / 20 * SPACING_MARGIN
    assert gaps == pytest.approx([spacing + HEAD_START_SECONDS, spacing], abs=0.05)


# (seconds the number's schedule has been free, the second text's slot): the first text
# after a quiet spell goes at once, and only the one after it waits the head start.
QUIET_SPELLS = [
    ("a number never used", None, 0.1 * SPACING_MARGIN + HEAD_START_SECONDS),
    ("a number quiet for a while", QUIET_SECONDS + 0.2, 0.1 * SPACING_MARGIN + HEAD_START_SECONDS),
    ("a number whose last slot just passed", 0.05, 0.1 * SPACING_MARGIN),
]


@pytest.mark.parametrize(("case", "quiet_for", "second_slot"), QUIET_SPELLS, ids=lambda c: c)
async def test_the_text_after_a_quiet_spells_first_waits_a_head_start(
    limiters: list[RateLimiter], case: str, quiet_for: float | None, second_slot: float
) -> None:
    number = f"+1202557{uuid.uuid4().int % 10000:04d}"
    if quiet_for is not None:
        # A never-used number's one text: its schedule is free a head start after it.
        await limiters[0].reserve(number, 1, 1000.0)
        await asyncio.sleep(0.001 * SPACING_MARGIN + HEAD_START_SECONDS + quiet_for)
    before_first = time.monotonic()
    first = await limiters[0].reserve(number, 1, 10.0)
    second = await limiters[1].reserve(number, 1, 10.0)
    after_second = time.monotonic()
    assert first == pytest.approx(0, abs=0.01)
    # Each wait is counted from the moment its reservation was made, somewhere inside
    # its call: the second is shorter by the time between the two, which a busy
    # machine can stretch well beyond the tolerance.
    assert second_slot - (after_second - before_first) - 0.02 <= second <= second_slot + 0.02


async def test_a_text_wakes_before_its_slot_to_get_its_connection_ready(
    limiters: list[RateLimiter],
) -> None:
    number = f"+1202558{uuid.uuid4().int % 10000:04d}"
    await limiters[0].reserve(number, 1, 2.0)
    slot = await approach_slot(limiters[1], number, 1, 2.0)
    woke = time.monotonic()
    assert slot - woke > 0.1  # a quarter of a second early, the most a text wakes early


async def test_numbers_do_not_hold_each_other_up(limiters: list[RateLimiter]) -> None:
    first = await limiters[0].reserve("+12025550001", 1, 1.0)
    other = await limiters[1].reserve("+12025550002", 1, 1.0)
    assert first == pytest.approx(0, abs=0.01)
    assert other == pytest.approx(0, abs=0.01)
