"""Idempotency keys: which keys are taken, and which requests count as the same one."""

from __future__ import annotations

import uuid

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.idempotency import checked_key, request_fingerprint

CONVERSATION = uuid.UUID("5f0c8b1e-2f8a-4a52-9d43-6b1f3c2e9a10")
OTHER = uuid.UUID("0e6f3a7b-1c2d-4e5f-8a9b-0c1d2e3f4a5b")


@pytest.mark.parametrize(
    ("key", "taken"),
    [
        ("0b9c3f3e-6a55-4c59-9a4e-4d7d0e1c2a71", True),
        ("k", True),
        ("k" * 255, True),
        ("order:42/retry#1", True),
        ("", False),
        ("k" * 256, False),
        ("two words", False),
        ("tab\there", False),
        ("line\nbreak", False),
        ("clé", False),
    ],
)
def test_a_key_is_1_to_255_visible_ascii_characters(key: str, taken: bool) -> None:
    if taken:
        assert checked_key(key) == key
    else:
        with pytest.raises(InvalidInput, match="Idempotency-Key must be"):
            checked_key(key)


SAME = request_fingerprint("post_message", CONVERSATION, body="Hello", send_as_sms=True)


@pytest.mark.parametrize(
    ("fingerprint", "same"),
    [
        (request_fingerprint("post_message", CONVERSATION, send_as_sms=True, body="Hello"), True),
        (request_fingerprint("post_message", CONVERSATION, body="Hello", send_as_sms=False), False),
        (request_fingerprint("post_message", CONVERSATION, body="Hello ", send_as_sms=True), False),
        (request_fingerprint("post_message", OTHER, body="Hello", send_as_sms=True), False),
        (request_fingerprint("resend_sms", CONVERSATION, body="Hello", send_as_sms=True), False),
    ],
    ids=["fields in another order", "not as SMS", "other body", "other target", "other action"],
)
def test_only_the_same_action_on_the_same_target_with_the_same_fields_is_the_same_request(
    fingerprint: str, same: bool
) -> None:
    assert (fingerprint == SAME) is same
