"""Message bodies: trimmed, 1 to 10,000 characters."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.messages import clean_body


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Hello", "Hello"),
        ("  Hello \n", "Hello"),
        ("Line one\nLine two", "Line one\nLine two"),
        ("x" * 10_000, "x" * 10_000),
        ("  " + "x" * 10_000 + "  ", "x" * 10_000),
    ],
)
def test_bodies_are_trimmed_and_kept(raw: str, stored: str) -> None:
    assert clean_body(raw) == stored


@pytest.mark.parametrize("raw", ["", " ", "\n\t", "x" * 10_001])
def test_empty_or_oversized_bodies_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_body(raw)
