"""The status of a text as staff see it, and the one rule for changing it (§2 rules 4–5)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


_RANK = {
    DeliveryStatus.SENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.FAILED: 2,
}


def is_final(status: DeliveryStatus) -> bool:
    return status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def next_status(current: DeliveryStatus, reported: DeliveryStatus) -> DeliveryStatus:
    """Status never moves backward, and the first final state reported wins."""
    if is_final(current):
        return current
    return reported if _RANK[reported] > _RANK[current] else current


@cache  # asked on every status callback (6 µs to work out, bench/README.md)
def statuses_moved_on_by(reported: DeliveryStatus) -> tuple[DeliveryStatus, ...]:
    """The current statuses that a report of `reported` changes: the rule, as a set for SQL."""
    return tuple(current for current in DeliveryStatus if next_status(current, reported) != current)
