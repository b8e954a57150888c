"""The SMS provider the settings ask for."""

from __future__ import annotations

from parley.providers.sms import SmsProvider
from parley.providers.twilio.client import TwilioProvider
from parley.settings import Settings


def build_sms_provider(settings: Settings) -> SmsProvider:
    # The simulator speaks Twilio's API, so both settings use the production adapter;
    # only the address differs (DESIGN §4: one code path for real and simulated).
    return TwilioProvider(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        api_url=settings.sms_api_url,
        timeout=settings.twilio_timeout_seconds,
    )
