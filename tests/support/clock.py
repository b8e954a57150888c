"""A clock the tests move by hand, so time-based rules are tested without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class TestClock:
    __test__ = False  # not a test class, despite the name

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        # Each reading moves a millisecond so rows written one after another keep
        # their order, as they would with a real clock.
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
