"""Segment counting and fitting, for any Unicode text (§2 rules 3 and 7a)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.domain.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments, fit_text, fits

pytestmark = pytest.mark.fuzz

GSM7 = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))
# Plain GSM-7 (and its two-septet extension characters) is where carriers count
# differently; the rest of Unicode, emoji beyond the BMP included, is UCS-2.
texts = st.text(st.sampled_from(GSM7)) | st.text()
limits = st.integers(min_value=1, max_value=12)


@given(text=texts, more=texts)
def test_appending_never_lowers_the_segment_count(text: str, more: str) -> None:
    assert count_segments(text + more).segments >= count_segments(text).segments


@given(
    head=st.text(max_size=60),
    message=texts.filter(lambda t: len(t) <= 1_800) | st.text(min_size=1_000, max_size=1_800),
    tail=st.text(max_size=120),
    limit=limits,
)
def test_a_fitted_text_keeps_head_and_tail_whole_and_fits_whenever_they_can(
    head: str, message: str, tail: str, limit: int
) -> None:
    fitted = fit_text(head, message, tail, limit)
    assert fitted.startswith(head) and fitted.endswith(tail)
    if fits(head + tail, limit):
        assert fits(fitted, limit)


@given(head=st.text(max_size=60), message=texts, tail=st.text(max_size=120), limit=limits)
def test_the_message_is_either_whole_or_its_beginning_with_an_ellipsis(
    head: str, message: str, tail: str, limit: int
) -> None:
    fitted = fit_text(head, message, tail, limit)
    kept = fitted[len(head) : len(fitted) - len(tail)]
    if fits(head + message + tail, limit):
        assert kept == message
    elif kept:
        assert kept.endswith(("...", "…"))
        assert message.startswith(kept.removesuffix("...").removesuffix("…"))
