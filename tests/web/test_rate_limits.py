"""The sliding window behind the reply page's limits per token and per address."""

from __future__ import annotations

import pytest

from parley.web.rate_limits import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        # Three a minute: the fourth within the minute is refused.
        ([0, 1, 2, 3], [True, True, True, False]),
        # The window slides: each request counts for exactly 60 s after it.
        ([0, 1, 2, 59.9, 60, 61, 61.5], [True, True, True, False, True, True, False]),
        # A refused request does not count, so it does not push the next one back.
        ([0, 0, 0, 30, 30, 60], [True, True, True, False, False, True]),
        # Spread out, none is ever refused.
        ([0, 25, 50, 75, 100, 125], [True] * 6),
    ],
)
def test_a_key_gets_its_limit_in_any_window(moments: list[float], expected: list[bool]) -> None:
    clock = Clock()
    window = SlidingWindow(limit=3, seconds=60, clock=clock)
    answers = []
    for moment in moments:
        clock.now = 1000.0 + moment
        answers.append(window.allow("token"))
    assert answers == expected


def test_keys_are_limited_each_on_its_own() -> None:
    window = SlidingWindow(limit=1, seconds=60, clock=Clock())
    assert [window.allow(key) for key in ("a", "b", "a", "c", "b")] == [
        True,
        True,
        False,
        True,
        False,
    ]


def test_keys_idle_for_a_window_are_forgotten() -> None:
    # A reply-page server meets a new token with almost every request: what it keeps
    # must follow the recent ones, not all it ever saw.
    clock = Clock()
    window = SlidingWindow(limit=5, seconds=60, clock=clock)
    for i in range(1000):
        window.allow(f"old-{i}")
    clock.now += 30
    window.allow("recent")
    clock.now += 31
    window.allow("new")
    assert len(window) == 2
    assert [window.allow("recent") for _ in range(5)] == [True] * 4 + [False]
