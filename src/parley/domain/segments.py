"""SMS segments: how carriers count a text, and fitting a text to a number of them.

GSM-7 (3GPP TS 23.038) packs 160 septets in one segment or 153 per segment of a long
text; characters of the extension table take two septets. One character outside
GSM-7 turns the whole text into UCS-2: 70 UTF-16 units alone, 67 per segment. A
segment never splits an escape pair or a surrogate pair, so packing is greedy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

MAX_SEGMENTS = 10
MAX_CHARACTERS = 1600  # Twilio's cap on a message body
DEFAULT_SEGMENT_LIMIT = 4

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    characters: int  # Unicode code points
    units: int  # GSM-7 septets, or UTF-16 code units in UCS-2
    segments: int


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def count_segments(text: str) -> SegmentCount:
    """How many segments `text` costs. An empty text still costs one."""
    encoding = encoding_of(text)
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    single, per_part = _LIMITS[encoding]
    if units <= single:
        return SegmentCount(encoding, len(text), units, 1)
    segments, filled = 1, 0
    for cost in costs:
        if filled + cost > per_part:
            segments, filled = segments + 1, 0
        filled += cost
    return SegmentCount(encoding, len(text), units, segments)


def fits(text: str, segment_limit: int) -> bool:
    limit = min(segment_limit, MAX_SEGMENTS)
    return len(text) <= MAX_CHARACTERS and count_segments(text).segments <= limit


def fit_text(head: str, message: str, tail: str, segment_limit: int) -> str:
    """`head + message + tail`, the message shortened with an ellipsis to fit the limit.

    Head and tail (firm name, reply link) are never cut. When even an empty message
    does not fit, the message is left out entirely: the link matters more.
    """
    if segment_limit < 1:
        raise ValueError("a text needs at least one segment")
    if fits(head + message + tail, segment_limit):
        return head + message + tail

    def shortened(length: int) -> str:
        kept = message[:length].rstrip()
        # "…" is not in GSM-7: it would turn a GSM-7 text into UCS-2 and halve what
        # fits, so such texts end in three dots instead.
        ellipsis = "..." if encoding_of(head + kept + tail) == "GSM-7" else "…"
        return head + kept + ellipsis + tail

    low, high = 0, len(message)  # shortened(low) is tried last; high never fits
    while high - low > 1:
        middle = (low + high) // 2
        if fits(shortened(middle), segment_limit):
            low = middle
        else:
            high = middle
    length = _word_boundary(message, low)
    for candidate in (length, low):
        if fits(shortened(candidate), segment_limit):
            return shortened(candidate)
    return head + tail


def _word_boundary(message: str, length: int, reach: int = 20) -> int:
    """A cut at the last space within `reach` characters, so no word is broken."""
    space = message.rfind(" ", max(0, length - reach), length + 1)
    return space if space > 0 else length
