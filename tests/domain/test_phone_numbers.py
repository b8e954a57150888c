"""Which numbers take texts, and how they are stored."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.phone_numbers import (
    normalize_sender_number,
    parse_mobile_number,
    parse_sender_number,
)


@pytest.mark.parametrize(
    ("raw", "region", "stored"),
    [
        ("+12025550142", "US", "+12025550142"),
        ("(202) 555-0142", "US", "+12025550142"),
        ("202.555.0142", "US", "+12025550142"),
        ("+44 7911 123456", "US", "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("+1 500 555 0006", "US", "+15005550006"),
    ],
)
def test_mobile_numbers_are_stored_in_e164(raw: str, region: str, stored: str) -> None:
    assert parse_mobile_number(raw, region) == stored


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "not a phone number"),
        ("not a number", "not a phone number"),
        ("12", "not a valid phone number"),
        ("+1 555 123 4567", "not a valid phone number"),
        ("+44 20 7946 0000", "a landline"),
        ("+1 800 555 0199", "a toll-free number"),
        ("+1 900 555 0199", "a premium-rate number"),
    ],
)
def test_numbers_that_cannot_take_texts_are_refused_plainly(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_mobile_number(raw, "US")
    assert says in refused.value.message
    assert refused.value.field == "mobile_phone"


def test_a_toll_free_number_may_send_for_a_firm() -> None:
    assert parse_sender_number("+1 800 555 0199", "US") == "+18005550199"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+12025550142", "+12025550142"),
        ("2025550142", "+12025550142"),
        ("72345", "72345"),
        (" short-code ", "short-code"),
    ],
)
def test_sender_numbers_of_inbound_texts_are_kept_even_when_odd(raw: str, normalized: str) -> None:
    assert normalize_sender_number(raw, "US") == normalized
