"""Keyword rules that hold for every text, not just the table's (§2 rule 13)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parley.domain.keywords import Keyword, classify_keyword

pytestmark = pytest.mark.fuzz

WORDS = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
        Keyword.STOP,
    ),
    **dict.fromkeys(("start", "yes", "unstop"), Keyword.START),
    **dict.fromkeys(("help", "info"), Keyword.HELP),
}

# Spaces of every kind, line breaks and tabs, invisible marks (RTL, zero-width), and
# punctuation: what phones and people put around a word.
padding = st.text(
    st.characters(
        categories=["Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"]
    )
)


def _fullwidth(letter: str) -> str:
    return chr(ord(letter) - ord("a") + ord("ａ"))


@st.composite
def typed(draw: st.DrawFn, word: str) -> str:
    """`word` as a keyboard may type it: any case, full-width letters from some phones."""
    styles = [str.lower, str.upper, _fullwidth, lambda c: _fullwidth(c).upper()]
    return "".join(draw(st.sampled_from(styles))(letter) for letter in word)


def _core(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@given(data=st.data(), word=st.sampled_from(sorted(WORDS)), before=padding, after=padding)
def test_a_keyword_with_any_padding_around_it_is_still_that_keyword(
    data: st.DataObject, word: str, before: str, after: str
) -> None:
    assert classify_keyword(before + data.draw(typed(word)) + after) == WORDS[word]


@given(text=st.text(), before=padding, after=padding)
def test_padding_never_changes_the_verdict_on_any_text(text: str, before: str, after: str) -> None:
    assert classify_keyword(before + text + after) == classify_keyword(text)


@given(
    word=st.sampled_from(sorted(WORDS)),
    other=st.text(st.characters(categories=["L", "N"]), min_size=1),
    joiner=st.sampled_from(["", " ", "-", "\n", ", "]),
    other_first=st.booleans(),
)
def test_a_keyword_with_other_letters_beside_it_is_never_a_keyword(
    word: str, other: str, joiner: str, other_first: bool
) -> None:
    text = other + joiner + word if other_first else word + joiner + other
    # "un" + "stop" is UNSTOP, "stop" + "all" is STOPALL: keywords in their own right.
    assume(_core(text) not in WORDS)
    assert classify_keyword(text) is None


@given(st.text())
def test_whatever_is_taken_for_a_keyword_spells_that_keyword_and_nothing_else(text: str) -> None:
    keyword = classify_keyword(text)
    if keyword is not None:
        letters = "".join(c for c in _core(text) if unicodedata.category(c)[0] in "LN")
        assert WORDS.get(letters) == keyword
