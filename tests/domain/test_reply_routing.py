"""Where a plain-text reply goes: the one-conversation rule (§2 rules 11–12)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from parley.domain.reply_routing import (
    FileInConversation,
    HoldInInbox,
    HoldReason,
    InboundFacts,
    TextToNumber,
    decide_reply_route,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=90)
ALICE, BOB = uuid.uuid4(), uuid.uuid4()
DIVORCE, ESTATE = uuid.uuid4(), uuid.uuid4()


def text(conversation: uuid.UUID, days_ago: float, contact: uuid.UUID = ALICE) -> TextToNumber:
    return TextToNumber(conversation, contact, uuid.uuid4(), NOW - timedelta(days=days_ago))


def facts(
    *texts: TextToNumber, contacts: frozenset[uuid.UUID] = frozenset({ALICE})
) -> InboundFacts:
    return InboundFacts(
        received_at=NOW,
        sender_contact_ids=contacts,
        texts_to_number=texts,
        window=WINDOW,
        sender_opted_out=False,
        last_notice_at=None,
    )


# facts, the conversation the reply is filed in (None: held in the inbox), hold reason
ROUTES = [
    ("unknown number", facts(contacts=frozenset()), None, HoldReason.UNKNOWN_SENDER),
    ("known contact never texted", facts(), None, HoldReason.NO_CONVERSATION),
    ("one conversation", facts(text(DIVORCE, 3)), DIVORCE, None),
    ("one conversation texted twice", facts(text(DIVORCE, 30), text(DIVORCE, 1)), DIVORCE, None),
    (
        "two conversations",
        facts(text(DIVORCE, 3), text(ESTATE, 5)),
        None,
        HoldReason.MULTIPLE_CONVERSATIONS,
    ),
    (
        "three conversations",
        facts(text(DIVORCE, 3), text(ESTATE, 5), text(uuid.uuid4(), 8)),
        None,
        HoldReason.MULTIPLE_CONVERSATIONS,
    ),
    ("the window's edge is inside", facts(text(DIVORCE, 90)), DIVORCE, None),
    ("just past the window", facts(text(DIVORCE, 90.001)), None, HoldReason.NO_CONVERSATION),
    (
        "an old second conversation does not count",
        facts(text(DIVORCE, 3), text(ESTATE, 91)),
        DIVORCE,
        None,
    ),
    (
        "number texted by the firm but unknown as a contact now",
        facts(text(DIVORCE, 3), contacts=frozenset()),
        DIVORCE,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "inbound", "conversation", "reason"), ROUTES, ids=[r[0] for r in ROUTES]
)
def test_a_reply_is_filed_only_when_exactly_one_conversation_texted_the_number(
    case: str, inbound: InboundFacts, conversation: uuid.UUID | None, reason: HoldReason | None
) -> None:
    decision = decide_reply_route(inbound)
    if conversation is None:
        assert isinstance(decision, HoldInInbox)
        assert decision.reason == reason
    else:
        assert isinstance(decision, FileInConversation)
        assert decision.conversation_id == conversation


def test_a_filed_reply_answers_the_latest_message_texted_to_that_number() -> None:
    older, latest = text(DIVORCE, 10), text(DIVORCE, 2)
    decision = decide_reply_route(facts(latest, older))
    assert decision == FileInConversation(DIVORCE, ALICE, latest.message_id)


def test_on_a_shared_phone_the_contact_texted_last_is_the_author() -> None:
    to_alice, to_bob = text(DIVORCE, 5, ALICE), text(DIVORCE, 1, BOB)
    decision = decide_reply_route(facts(to_alice, to_bob, contacts=frozenset({ALICE, BOB})))
    assert decision == FileInConversation(DIVORCE, BOB, to_bob.message_id)


def test_a_held_text_names_its_sender_when_only_one_contact_has_the_number() -> None:
    decision = decide_reply_route(facts(text(DIVORCE, 3), text(ESTATE, 5)))
    assert isinstance(decision, HoldInInbox)
    assert decision.contact_id == ALICE


def test_a_held_text_names_no_sender_when_the_number_is_shared() -> None:
    decision = decide_reply_route(facts(contacts=frozenset({ALICE, BOB})))
    assert isinstance(decision, HoldInInbox)
    assert decision.contact_id is None


# last "use the link" notice, opted out, whether a notice goes now
NOTICES = [
    (None, False, True),
    (NOW - timedelta(hours=23, minutes=59), False, False),
    (NOW - timedelta(hours=24), False, True),
    (NOW - timedelta(days=3), False, True),
    (None, True, False),
]


@pytest.mark.parametrize(("last_notice", "opted_out", "notice"), NOTICES)
def test_the_use_the_link_notice_goes_at_most_once_a_day_and_never_to_an_opted_out_number(
    last_notice: datetime | None, opted_out: bool, notice: bool
) -> None:
    inbound = replace(
        facts(text(DIVORCE, 3), text(ESTATE, 5)),
        last_notice_at=last_notice,
        sender_opted_out=opted_out,
    )
    decision = decide_reply_route(inbound)
    assert isinstance(decision, HoldInInbox)
    assert decision.send_notice is notice
