"""The one-conversation rule over any history of texts (§2 rules 11–12)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.domain.reply_routing import (
    FileInConversation,
    HoldInInbox,
    HoldReason,
    InboundFacts,
    TextToNumber,
    decide_reply_route,
)

pytestmark = pytest.mark.fuzz

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Few of each, so that histories share conversations and phones.
CONVERSATIONS = [uuid.UUID(int=i) for i in range(1, 5)]
CONTACTS = [uuid.UUID(int=i) for i in range(101, 104)]


@st.composite
def inbound_facts(draw: st.DrawFn) -> InboundFacts:
    window = timedelta(days=draw(st.integers(min_value=1, max_value=365)))
    ages = st.timedeltas(min_value=-timedelta(hours=1), max_value=2 * window)
    texts = draw(
        st.lists(
            st.builds(
                TextToNumber,
                conversation_id=st.sampled_from(CONVERSATIONS),
                contact_id=st.sampled_from(CONTACTS),
                message_id=st.uuids(),
                texted_at=ages.map(lambda age: NOW - age),
            ),
            max_size=8,
        )
    )
    return InboundFacts(
        received_at=NOW,
        sender_contact_ids=draw(st.frozensets(st.sampled_from(CONTACTS))),
        texts_to_number=tuple(texts),
        window=window,
        sender_opted_out=draw(st.booleans()),
        last_notice_at=draw(st.none() | ages.map(lambda age: NOW - age)),
    )


def texting_conversations(facts: InboundFacts) -> set[uuid.UUID]:
    return {
        t.conversation_id
        for t in facts.texts_to_number
        if facts.received_at - t.texted_at <= facts.window
    }


@given(inbound_facts())
def test_a_reply_is_filed_if_and_only_if_exactly_one_conversation_texted_within_the_window(
    facts: InboundFacts,
) -> None:
    decision = decide_reply_route(facts)
    texting = texting_conversations(facts)
    if len(texting) == 1:
        assert isinstance(decision, FileInConversation)
        assert {decision.conversation_id} == texting
    else:
        assert isinstance(decision, HoldInInbox)


@given(inbound_facts())
def test_every_text_gets_a_decision_and_a_held_one_a_reason(facts: InboundFacts) -> None:
    decision = decide_reply_route(facts)
    assert isinstance(decision, FileInConversation | HoldInInbox)
    if isinstance(decision, HoldInInbox):
        assert decision.reason in HoldReason
        assert decision.contact_id is None or decision.contact_id in facts.sender_contact_ids


@given(inbound_facts())
def test_a_filed_reply_answers_the_latest_text_of_its_conversation(facts: InboundFacts) -> None:
    decision = decide_reply_route(facts)
    if isinstance(decision, FileInConversation):
        latest = max(
            (t for t in facts.texts_to_number if t.conversation_id == decision.conversation_id),
            key=lambda t: t.texted_at,
        )
        assert decision.in_reply_to_id == latest.message_id
        assert decision.contact_id == latest.contact_id


@given(inbound_facts())
def test_an_opted_out_number_is_never_sent_the_use_the_link_notice(facts: InboundFacts) -> None:
    decision = decide_reply_route(facts)
    if facts.sender_opted_out and isinstance(decision, HoldInInbox):
        assert decision.send_notice is False
