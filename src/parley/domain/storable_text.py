"""Text as every database Parley runs on can keep it.

PostgreSQL refuses the NUL character (U+0000) in text and JSON alike, where SQLite
would keep it. No phone or keyboard means one; it comes from broken encoders and from
people probing. Where the words are a client's (an inbound text, a reply), Parley
never drops them, so each NUL becomes U+FFFD, the character Unicode sets aside for
"something was here that cannot be shown", and every other character is kept as it
came. Staff API input is refused instead (422), so an integration learns of its bug.
"""

from __future__ import annotations

NUL = "\x00"
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` with each NUL replaced by U+FFFD; nothing else changes."""
    return text.replace(NUL, REPLACEMENT)
