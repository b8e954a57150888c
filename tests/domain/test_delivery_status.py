"""Status never moves backward, and the first final state reported wins (§2 rules 4–5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.domain.delivery_status import (
    DeliveryStatus,
    is_final,
    next_status,
    statuses_moved_on_by,
)

SENDING, SENT, DELIVERED, FAILED = (
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
)

# current, reported, result: every pair of states.
TRANSITIONS = [
    (SENDING, SENDING, SENDING),
    (SENDING, SENT, SENT),
    (SENDING, DELIVERED, DELIVERED),
    (SENDING, FAILED, FAILED),
    (SENT, SENDING, SENT),
    (SENT, SENT, SENT),
    (SENT, DELIVERED, DELIVERED),
    (SENT, FAILED, FAILED),
    (DELIVERED, SENDING, DELIVERED),
    (DELIVERED, SENT, DELIVERED),
    (DELIVERED, DELIVERED, DELIVERED),
    (DELIVERED, FAILED, DELIVERED),
    (FAILED, SENDING, FAILED),
    (FAILED, SENT, FAILED),
    (FAILED, DELIVERED, FAILED),
    (FAILED, FAILED, FAILED),
]


def test_the_table_covers_every_pair_of_states() -> None:
    assert {(c, r) for c, r, _ in TRANSITIONS} == {
        (c, r) for c in DeliveryStatus for r in DeliveryStatus
    }


@pytest.mark.parametrize(("current", "reported", "result"), TRANSITIONS)
def test_a_reported_status_moves_a_delivery_only_forward(
    current: DeliveryStatus, reported: DeliveryStatus, result: DeliveryStatus
) -> None:
    assert next_status(current, reported) == result


@pytest.mark.parametrize("reported", list(DeliveryStatus))
def test_the_rule_as_a_set_for_sql_names_exactly_the_states_a_report_changes(
    reported: DeliveryStatus,
) -> None:
    # PostgreSQL applies a callback in one statement that sets the reported state on
    # deliveries in this set, so it must agree with the table for every state.
    moves = {(current, result) for current, r, result in TRANSITIONS if r == reported}
    changed = {current for current, result in moves if result != current}
    assert set(statuses_moved_on_by(reported)) == changed
    assert {result for current, result in moves if current in changed} <= {reported}


@pytest.mark.fuzz
@given(st.lists(st.sampled_from(list(DeliveryStatus)), max_size=12))
def test_any_order_of_reports_ends_at_the_first_final_or_the_furthest_state(
    reports: list[DeliveryStatus],
) -> None:
    status = SENDING
    for reported in reports:
        status = next_status(status, reported)
    finals = [r for r in reports if is_final(r)]
    if finals:
        assert status == finals[0]
    else:
        assert status == (SENT if SENT in reports else SENDING)
