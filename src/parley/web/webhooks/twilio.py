"""Twilio's webhooks: status callbacks for our texts, and texts from clients.

Declared on a FastAPI router for the OpenAPI document, but served as plain Starlette
endpoints on the app's lane for its busiest requests (web/app.py): FastAPI's routing
and dependency layers were a third of their cost (bench/README.md).
So each endpoint takes only the request and reads the signature header itself.
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, Security
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException
from twilio.twiml.messaging_response import MessagingResponse

from parley.domain.storable_text import storable
from parley.providers.twilio.errors import describe_error
from parley.providers.twilio.signature import is_valid_signature
from parley.providers.twilio.statuses import our_status
from parley.services.context import ServiceContext
from parley.services.delivery_updates import ProviderEvent, record_provider_event
from parley.services.inbound import ReceivedText, receive_text
from parley.web.errors import documented_errors

FORM = "application/x-www-form-urlencoded"
SIGNATURE_HEADER = "X-Twilio-Signature"

# As long as the columns that keep them; Twilio's own are far shorter (a sid is 34).
LONGEST = {
    "MessageSid": 64,
    "SmsSid": 64,
    "MessageStatus": 20,
    "SmsStatus": 20,
    "ErrorCode": 20,
    "From": 40,
    "To": 40,
}

_signature = APIKeyHeader(
    name=SIGNATURE_HEADER,
    scheme_name="TwilioSignature",
    description="HMAC-SHA1 of the public URL and the sorted parameters, by the auth token.",
    auto_error=False,
)
router = APIRouter(
    prefix="/webhooks/twilio",
    tags=["webhooks"],
    responses=documented_errors(403, 413, 415, 422),
    # Documents the header; the endpoints check it themselves (see signed_form).
    dependencies=[Security(_signature)],
)


def _twilio_form(
    fields: dict[str, str], *, required: list[str], non_empty: list[str]
) -> dict[str, Any]:
    """The OpenAPI request body of a webhook: Twilio's form, parameters it adds included."""
    properties = {
        name: {
            "type": "string",
            "description": text,
            **({"minLength": 1} if name in non_empty else {}),
            **({"maxLength": LONGEST[name]} if name in LONGEST else {}),
        }
        for name, text in fields.items()
    }
    schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": {"type": "string"},
    }
    content = {FORM: {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


_STATUS_FORM = _twilio_form(
    {
        "MessageSid": "Twilio's id of the text.",
        "MessageStatus": "queued, sending, sent, delivered, read, undelivered, failed …",
        "ErrorCode": "Twilio's error code when the text failed.",
        "AccountSid": "The account that sent the text.",
        "From": "The firm's sender number.",
        "To": "The client's number.",
    },
    required=["MessageSid", "MessageStatus"],
    non_empty=["MessageSid", "MessageStatus"],
)
_INBOUND_FORM = _twilio_form(
    {
        "MessageSid": "Twilio's id of the text.",
        "From": "The number the text came from, as the carrier gave it.",
        "To": "The firm's number it was sent to.",
        "Body": "The text, as written.",
        "NumMedia": "How many pictures or files came with it (MediaUrl0, MediaContentType0 …).",
        "AccountSid": "The account that received the text.",
    },
    required=["MessageSid", "From", "To"],
    # An empty sender (withheld, or a carrier's oddity) is kept all the same.
    non_empty=["MessageSid"],
)


async def signed_form(request: Request, ctx: ServiceContext) -> dict[str, str]:
    """The form parameters, once the signature proves Twilio sent them (else 403)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        # Read as a form, anything else would look empty and fail as "wrongly signed".
        raise HTTPException(415, f"Twilio's webhooks are form-encoded ({FORM}).")
    params = form_fields(await request.body())
    # The URL Twilio called, from the request's own path and query (request.url would
    # also parse the Host header, which the signature does not cover).
    url = ctx.settings.public_url.rstrip("/") + request.scope["path"]
    if query := _query(request):
        url += "?" + query
    signature = request.headers.get(SIGNATURE_HEADER)
    if not is_valid_signature(ctx.settings.twilio_auth_token, url, params, signature):
        raise HTTPException(403, "The request's Twilio signature is missing or wrong.")
    for name, longest in LONGEST.items():
        if len(params.get(name, "")) > longest:
            raise HTTPException(422, f"{name} is longer than {longest} characters.")
    # Made storable only now: Twilio signed the parameters exactly as they came.
    return {storable(key): storable(value) for key, value in params.items()}


def form_fields(body: bytes) -> dict[str, str]:
    """A form-encoded body's fields, decoded exactly as Starlette's form parser does.

    As there, bytes outside ASCII are read as Latin-1 and percent-escapes as UTF-8; a
    repeated name keeps its last value, and a name without a value is kept, empty.
    The standard library's `parse_qsl` reads it the same way at twice the cost (23
    against 12 µs on a status callback), and the streaming parser behind
    `request.form()` at six times (bench/README.md).
    """
    fields = {}
    for pair in body.decode("latin-1").split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields[_unescaped(name)] = _unescaped(value)
    return fields


def _unescaped(text: str) -> str:
    """`urllib.parse.unquote_plus`, at a quarter of its cost on the ASCII Twilio sends.

    For text all in ASCII, `unquote` decodes the whole of it as UTF-8 bytes, which is
    what `unquote_to_bytes` gives without its search for runs of ASCII.
    """
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        return urllib.parse.unquote_to_bytes(text).decode("utf-8", "replace")
    return urllib.parse.unquote(text)


@router.post("/status", status_code=204, openapi_extra=_STATUS_FORM)
async def status_callback(request: Request) -> Response:
    ctx: ServiceContext = request.app.state.ctx
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


def _query(request: Request) -> str:
    """The query string as sent. Read as Latin-1, like the body: Twilio's are ASCII, and
    any other bytes make a URL that fails the signature check (403), never a decoding
    error (request.url decodes as UTF-8 and raised a 500 on such bytes)."""
    query: bytes = request.scope["query_string"]
    return query.decode("latin-1")


def _delivery_hint(request: Request) -> uuid.UUID | None:
    """The delivery our StatusCallback URL names (?d=), when it names one well."""
    hint = form_fields(request.scope["query_string"]).get("d", "")
    try:
        return uuid.UUID(hint)
    except ValueError:
        return None


@router.post(
    "/inbound",
    # A bare Response has no media type, so FastAPI lists only the TwiML below for 200
    # and keeps the refusals documented as JSON.
    response_class=Response,
    responses={
        200: {
            "description": "TwiML",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    },
    openapi_extra=_INBOUND_FORM,
)
async def inbound_text(request: Request) -> Response:
    """A text from a client; answered with TwiML, with a text back when we have one."""
    ctx: ServiceContext = request.app.state.ctx
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
    return Response(_twiml(reply) if reply else _NO_ANSWER, media_type="application/xml")


def _twiml(reply: str | None) -> str:
    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return str(twiml)


# Most texts are filed and answered with nothing: the same TwiML every time, made once
# (building it through ElementTree was about 7 % of an inbound text's CPU).
_NO_ANSWER = _twiml(None)


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
