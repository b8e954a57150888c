"""X-Twilio-Signature, computed and checked by the twilio package's own validator."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from twilio.request_validator import RequestValidator


class _Params(dict[str, str]):
    """The form as the validator reads a multi-dict: one value per name, no lookups.

    Given a plain dict, the validator tries two multi-dict methods and catches an
    AttributeError for each before reading a parameter: a third of a status
    callback's signature check.
    """

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    signature: str = RequestValidator(auth_token).compute_signature(url, _Params(params))
    return signature


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Whether Twilio signed these parameters for this URL.

    Twilio signs the URL it called, which is our public URL as configured, so that one
    signature is computed first. Only when it differs does the package's full check
    run, which also accepts the URL with its default port added or removed.
    """
    if not signature:
        return False
    validator = RequestValidator(auth_token)
    form = _Params(params)
    expected = validator.compute_signature(url, form).encode()
    # As bytes: a forged header may hold any character, which compare_digest refuses in a str.
    if hmac.compare_digest(expected, signature.encode()):
        return True
    return bool(validator.validate(url, form, signature))
