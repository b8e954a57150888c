"""Requests exactly as Twilio sends them to our webhooks, signed with the account's token."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from parley.providers.twilio.signature import sign
from parley.services.context import ServiceContext

INBOUND_PATH = "/webhooks/twilio/inbound"
STATUS_PATH = "/webhooks/twilio/status"
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


async def text_in(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    *,
    from_: str,
    to: str,
    body: str,
    sid: str | None = None,
    media: list[tuple[str, str]] | None = None,
    signed: bool = True,
    **extra: Any,
) -> httpx.Response:
    """A client's text arriving at the inbound webhook."""
    sid = sid or new_sid()
    params: dict[str, str] = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ctx.settings.twilio_account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumSegments": "1",
        "NumMedia": str(len(media or [])),
        "ApiVersion": "2010-04-01",
        **{k: str(v) for k, v in extra.items()},
    }
    for i, (url, content_type) in enumerate(media or []):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = content_type
    headers = {}
    if signed:
        url = ctx.settings.public_url.rstrip("/") + INBOUND_PATH
        headers["X-Twilio-Signature"] = sign(ctx.settings.twilio_auth_token, url, params)
    return await api.post(INBOUND_PATH, data=params, headers=headers)


async def status_reported(
    api: httpx.AsyncClient, ctx: ServiceContext, *, delivery_id: str, sid: str, status: str
) -> httpx.Response:
    """Twilio's status callback for one of our texts, to the URL the dispatcher gave it."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ctx.settings.twilio_account_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    path = f"{STATUS_PATH}?d={delivery_id}"
    url = ctx.settings.public_url.rstrip("/") + path
    headers = {"X-Twilio-Signature": sign(ctx.settings.twilio_auth_token, url, params)}
    return await api.post(path, data=params, headers=headers)
