"""The words of a text to a client: firm name, message, and their own reply link."""

from __future__ import annotations

from parley.domain.segments import count_segments, fit_text


def link_line(link: str) -> str:
    return f"\nReply: {link}"


def compose_intro(firm_name: str, message: str, link: str, segment_limit: int) -> str:
    """Firm name and message, shortened so that with the link line the text fits.

    The link is left out of what is returned (it is a secret, derived again at send
    time); `full_text` puts it back. The link's length is all that matters for fitting.
    """
    whole = fit_text(f"{firm_name}: ", message, link_line(link), segment_limit)
    return whole[: len(whole) - len(link_line(link))]


def full_text(intro: str, link: str) -> str:
    return intro + link_line(link)


def segments_of(intro: str, link: str) -> int:
    return count_segments(full_text(intro, link)).segments
