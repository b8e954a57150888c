"""The words of a text: firm name, the message (shortened if need be), the reply link."""

from __future__ import annotations

import pytest

from parley.domain.segments import count_segments
from parley.domain.sms_text import compose_intro, full_text

LINK = "https://parley.example/r/" + "T" * 32


def test_a_short_message_goes_whole_with_firm_name_and_link() -> None:
    intro = compose_intro("Hale & Marsh LLP", "Your documents are ready.", LINK, 4)
    assert full_text(intro, LINK) == (f"Hale & Marsh LLP: Your documents are ready.\nReply: {LINK}")


@pytest.mark.parametrize("limit", [1, 2, 4, 10])
def test_a_long_message_is_cut_to_the_firm_limit_keeping_the_link_whole(limit: int) -> None:
    intro = compose_intro("Hale & Marsh LLP", "word " * 2000, LINK, limit)
    text = full_text(intro, LINK)
    assert text.endswith(f"\nReply: {LINK}")
    assert count_segments(text).segments <= limit
    assert intro.endswith("...")


def test_a_message_in_ucs2_is_cut_with_a_real_ellipsis() -> None:
    intro = compose_intro("Hale & Marsh LLP", "Привет " * 300, LINK, 2)
    assert intro.endswith("…")
    assert count_segments(full_text(intro, LINK)).segments <= 2
