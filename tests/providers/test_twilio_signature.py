"""X-Twilio-Signature: what Twilio signed passes, anything else fails, and never raises."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from parley.providers.twilio.signature import is_valid_signature, sign

TOKEN = "12345"
URL = "https://parley.example/webhooks/twilio/status?d=abc"
PARAMS = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "Body": ""}


def signed_by_twilio(url: str, params: dict[str, str]) -> str:
    """The signature as the twilio package computes it, independently of sign()."""
    signature: str = RequestValidator(TOKEN).compute_signature(url, params)
    return signature


@pytest.mark.parametrize(
    ("case", "signature", "params", "valid"),
    [
        ("signed for our URL", signed_by_twilio(URL, PARAMS), PARAMS, True),
        (
            "signed for our URL with the default port",
            signed_by_twilio(URL.replace(".example/", ".example:443/"), PARAMS),
            PARAMS,
            True,
        ),
        ("a parameter changed", signed_by_twilio(URL, PARAMS), {**PARAMS, "Body": "x"}, False),
        ("a parameter added", signed_by_twilio(URL, PARAMS), {**PARAMS, "To": "+1"}, False),
        (
            "signed for another URL",
            signed_by_twilio(URL.replace("status", "inbound"), PARAMS),
            PARAMS,
            False,
        ),
        (
            "signed with another token",
            RequestValidator("other").compute_signature(URL, PARAMS),
            PARAMS,
            False,
        ),
        ("missing", None, PARAMS, False),
        ("empty", "", PARAMS, False),
        ("not base64", "not a signature", PARAMS, False),
        ("characters outside ASCII", "é" * 28, PARAMS, False),
    ],
)
def test_signature_check(
    case: str, signature: str | None, params: dict[str, str], valid: bool
) -> None:
    assert is_valid_signature(TOKEN, URL, params, signature) is valid, case


def test_a_url_without_its_default_port_matches_twilio_signing_with_it() -> None:
    with_port = "https://parley.example:443/webhooks/twilio/inbound"
    signature = signed_by_twilio("https://parley.example/webhooks/twilio/inbound", PARAMS)
    assert is_valid_signature(TOKEN, with_port, PARAMS, signature)


def test_sign_agrees_with_the_twilio_package() -> None:
    assert sign(TOKEN, URL, PARAMS) == signed_by_twilio(URL, PARAMS)
