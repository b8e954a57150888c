"""An email notice of new messages, as composed: what it says and to whom."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoticeEmail:
    to: str
    from_address: str
    subject: str
    greeting_name: str
    firm_name: str
    matter_title: str
    conversation_subject: str
    link: str
    count: int
    # (author, body) of each message, only when the firm includes bodies in emails
    messages: list[tuple[str, str]] | None
