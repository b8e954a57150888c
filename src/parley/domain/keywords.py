"""STOP, START and HELP: the carrier keywords a whole text can be (DESIGN §2 rule 13)."""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


_WORDS = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
        Keyword.STOP,
    ),
    **dict.fromkeys(("start", "yes", "unstop"), Keyword.START),
    **dict.fromkeys(("help", "info"), Keyword.HELP),
}


def _is_padding(character: str) -> bool:
    # Spaces of every kind, line breaks, punctuation (Unicode categories Z*, C*, P*).
    return unicodedata.category(character)[0] in "ZCP" or character.isspace()


def classify_keyword(body: str) -> Keyword | None:
    """The keyword the whole text is, ignoring case and surrounding spaces/punctuation."""
    start, end = 0, len(body)
    while start < end and _is_padding(body[start]):
        start += 1
    while end > start and _is_padding(body[end - 1]):
        end -= 1
    # NFKC so that full-width or styled letters from some phone keyboards still opt out.
    return _WORDS.get(unicodedata.normalize("NFKC", body[start:end]).casefold())
