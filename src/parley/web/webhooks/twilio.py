"""Twilio's webhooks: status callbacks for our texts, and texts from clients."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException
from twilio.twiml.messaging_response import MessagingResponse

from parley.providers.twilio.errors import describe_error
from parley.providers.twilio.signature import is_valid_signature
from parley.providers.twilio.statuses import our_status
from parley.services.delivery_updates import ProviderEvent, record_provider_event
from parley.services.inbound import ReceivedText, receive_text
from parley.web.body_limits import WEBHOOK_BODY_LIMIT
from parley.web.deps import Ctx

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"], max_body_size=WEBHOOK_BODY_LIMIT)


async def signed_form(request: Request, ctx: Ctx) -> dict[str, str]:
    """The form parameters, once the signature proves Twilio sent them (else 403)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    url = ctx.settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("X-Twilio-Signature")
    if not is_valid_signature(ctx.settings.twilio_auth_token, url, params, signature):
        raise HTTPException(403, "The request's Twilio signature is missing or wrong.")
    return params


@router.post("/status", status_code=204)
async def status_callback(request: Request, ctx: Ctx) -> Response:
    params = await signed_form(request, ctx)
    provider_id = params.get("MessageSid") or params.get("SmsSid")
    provider_status = params.get("MessageStatus") or params.get("SmsStatus")
    if not provider_id or not provider_status:
        raise HTTPException(422, "A status callback needs MessageSid and MessageStatus.")
    error_code = params.get("ErrorCode") or None
    event = ProviderEvent(
        provider_id=provider_id,
        provider_status=provider_status,
        status=our_status(provider_status),
        error_code=error_code,
        reason=describe_error(error_code).reason,
        params=params,
    )
    await record_provider_event(ctx, event, _delivery_hint(request))
    return Response(status_code=204)


def _delivery_hint(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.query_params.get("d", ""))
    except ValueError:
        return None


@router.post("/inbound")
async def inbound_text(request: Request, ctx: Ctx) -> Response:
    """A text from a client; answered with TwiML, with a text back when we have one."""
    params = await signed_form(request, ctx)
    provider_id = params.get("MessageSid") or params.get("SmsSid")
    if not provider_id or "From" not in params or "To" not in params:
        raise HTTPException(422, "An inbound text needs MessageSid, From and To.")
    received = ReceivedText(
        provider_id=provider_id,
        from_number=params["From"],
        to_number=params["To"],
        body=params.get("Body", ""),
        params=params,
        media=_media(params),
    )
    reply = await receive_text(ctx, received)
    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return Response(str(twiml), media_type="application/xml")


def _media(params: dict[str, str]) -> list[dict[str, str]]:
    try:
        count = int(params.get("NumMedia", "0"))
    except ValueError:
        count = 0
    return [
        {"url": params[f"MediaUrl{i}"], "content_type": params.get(f"MediaContentType{i}", "")}
        for i in range(count)
        if f"MediaUrl{i}" in params
    ]
