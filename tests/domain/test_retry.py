"""Backoff for transient send failures."""

from __future__ import annotations

import pytest

from parley.domain.retry import RetryPolicy, retry_delay, should_give_up

POLICY = RetryPolicy(max_attempts=5, base_seconds=2.0, cap_seconds=30.0)


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [
        (1, 0.0, 1.0),
        (1, 0.999, 1.999),
        (2, 0.0, 2.0),
        (3, 0.5, 6.0),
        (4, 0.0, 8.0),
        (5, 0.0, 15.0),
        (9, 0.0, 15.0),
    ],
)
def test_delay_doubles_with_jitter_up_to_the_cap(attempt: int, jitter: float, delay: float) -> None:
    assert retry_delay(POLICY, attempt, jitter) == pytest.approx(delay)


def test_retry_after_from_the_provider_is_honoured() -> None:
    assert retry_delay(POLICY, 1, 0.0, retry_after=20.0) == 20.0


def test_a_short_retry_after_does_not_shorten_the_backoff() -> None:
    assert retry_delay(POLICY, 4, 0.0, retry_after=1.0) == 8.0


@pytest.mark.parametrize(("attempt", "give_up"), [(1, False), (4, False), (5, True), (6, True)])
def test_gives_up_after_the_last_attempt(attempt: int, give_up: bool) -> None:
    assert should_give_up(POLICY, attempt) is give_up
