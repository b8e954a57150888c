"""How carriers count a text: GSM-7 at 160/153, UCS-2 at 70/67, pairs never split."""

from __future__ import annotations

import pytest

from parley.domain.segments import count_segments, fits

# text, encoding, units, segments
COUNTS = [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("line\nbreak", "GSM-7", 10, 1),
    ("ÄÖÑÜäöñüàéè £$¥ ΔΦΓ", "GSM-7", 19, 1),
    # Extension-table characters take two septets each.
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("{}[]~|^\\", "GSM-7", 16, 1),
    # The escape pair moves whole to the next segment: 306 septets, yet three parts.
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
    # One character outside GSM-7 makes the whole text UCS-2.
    ("Ж" * 70, "UCS-2", 70, 1),
    ("Ж" * 71, "UCS-2", 71, 2),
    ("Ж" * 134, "UCS-2", 134, 2),
    ("Ж" * 135, "UCS-2", 135, 3),
    ("a" * 159 + "Ж", "UCS-2", 160, 3),
    ("Thanks…", "UCS-2", 7, 1),
    # Characters beyond the BMP are two UTF-16 units, and a surrogate pair is not split.
    ("😀" * 35, "UCS-2", 70, 1),
    ("😀" * 36, "UCS-2", 72, 2),
    ("Ж" * 66 + "😀" + "Ж" * 66, "UCS-2", 134, 3),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), COUNTS)
def test_segments_are_counted_as_carriers_count_them(
    text: str, encoding: str, units: int, segments: int
) -> None:
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


# text, segment limit, fits
LIMITS = [
    ("a" * 612, 4, True),
    ("a" * 613, 4, False),
    ("Ж" * 268, 4, True),
    ("Ж" * 269, 4, False),
    # A firm's limit above ten segments is held at ten.
    ("a" * 1530, 20, True),
    ("a" * 1531, 20, False),
]


@pytest.mark.parametrize(("text", "limit", "expected"), LIMITS)
def test_a_text_fits_the_segment_limit_capped_at_ten(text: str, limit: int, expected: bool) -> None:
    assert fits(text, limit) is expected
