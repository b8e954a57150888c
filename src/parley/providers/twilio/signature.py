"""X-Twilio-Signature, computed and checked by the twilio package's own validator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
