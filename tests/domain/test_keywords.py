"""STOP, START and HELP are the whole text, any case, padding ignored (§2 rule 13)."""

from __future__ import annotations

import pytest

from parley.domain.keywords import Keyword, classify_keyword

KEYWORDS = [
    *[
        (word, Keyword.STOP)
        for word in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
    ],
    *[(word, Keyword.START) for word in ("START", "YES", "UNSTOP")],
    *[(word, Keyword.HELP) for word in ("HELP", "INFO")],
    ("stop", Keyword.STOP),
    ("Stop", Keyword.STOP),
    ("  stop  ", Keyword.STOP),
    ("STOP.", Keyword.STOP),
    ("stop!!", Keyword.STOP),
    ('"Stop"', Keyword.STOP),
    ("\nSTOP\n", Keyword.STOP),
    ("\u00a0stop\u3000", Keyword.STOP),  # no-break and ideographic spaces
    ("¡Start!", Keyword.START),
    ("help?", Keyword.HELP),
    ("ＳＴＯＰ", Keyword.STOP),  # full-width letters from some keyboards
    ("please stop", None),
    ("stop texting me", None),
    ("st op", None),
    ("stopp", None),
    ("Yes, Tuesday works", None),
    ("I can't end this call", None),
    ("", None),
    ("   ", None),
    ("🛑", None),
]


@pytest.mark.parametrize(("text", "keyword"), KEYWORDS)
def test_a_keyword_is_recognised_only_as_the_whole_text(text: str, keyword: Keyword | None) -> None:
    assert classify_keyword(text) == keyword
