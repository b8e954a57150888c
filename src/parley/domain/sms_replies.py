"""The words Parley texts back on its own: keyword confirmations and reply notices."""

from __future__ import annotations

from parley.domain.keywords import Keyword
from parley.domain.reply_routing import HoldReason


def keyword_answer(keyword: Keyword, firm_name: str, firm_email: str | None) -> str:
    if keyword is Keyword.STOP:
        return f"{firm_name}: you will get no more texts from us. Reply START to resubscribe."
    if keyword is Keyword.START:
        return f"{firm_name}: you will get our texts again. Reply STOP to unsubscribe."
    reach = f" or email {firm_email}" if firm_email else ""
    return (
        f"{firm_name}: for help, reply through the link in our message{reach}. "
        "Reply STOP to unsubscribe."
    )


def held_reply_notice(firm_name: str, reason: HoldReason) -> str:
    """Tells a client their plain-text reply did not reach a conversation, and what to do."""
    why = {
        HoldReason.MULTIPLE_CONVERSATIONS: (
            "you have more than one conversation with us, so we cannot tell which one your "
            "text answers"
        ),
        HoldReason.NO_CONVERSATION: "we have no recent conversation with you to add it to",
        HoldReason.UNKNOWN_SENDER: "we do not recognise this number",
    }[reason]
    return (
        f"{firm_name}: your reply could not be delivered: {why}. Please reply using the "
        "link in our message, or in our app. Your text has been kept for our staff."
    )
