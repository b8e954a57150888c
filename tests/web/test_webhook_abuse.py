"""Odd and hostile webhook requests: refused clearly, or stored exactly as sent."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from parley.db.models import DeliveryEvent, InboundText
from parley.providers.twilio.signature import sign
from parley.services.context import ServiceContext
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.twilio_webhooks import INBOUND_PATH, new_sid, text_in

DANA = "+12025550142"


async def texted_dana(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone=DANA)
    conversation = await new_conversation(api, firm.headers, [dana])
    await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="Your hearing is on Monday.",
        send_as_sms=True,
    )
    return conversation


async def last_message(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> dict[str, Any]:
    listed = await api.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=firm.headers
    )
    return dict(listed.json()["items"][-1])


async def stored_inbound(ctx: ServiceContext) -> int:
    async with ctx.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundText)) or 0)


@pytest.mark.parametrize(
    "body",
    [
        "Thanks 👍🏽 see you 👨‍👩‍👧",
        "\u202eRTL override\u202c and \u200fmark",
        "Zero\u200bwidth and combining e\u0301",
        "Line one\r\nLine two\ttabbed",
        "<script>alert(1)</script> & 'quotes' \"double\"",
        "ＳＴＯＰ is not the whole text here",
        "😀" * 400,
    ],
    ids=["emoji", "rtl", "zero-width", "control", "markup", "full-width", "long-emoji"],
)
async def test_unusual_text_is_filed_character_for_character(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, body: str
) -> None:
    conversation = await texted_dana(api, firm)
    response = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body=body)
    assert response.status_code == 200
    assert (await last_message(api, firm, conversation))["body"] == body.strip()


async def test_a_nul_byte_in_a_text_is_kept_as_a_visible_placeholder(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    conversation = await texted_dana(api, firm)
    response = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="before\x00after")
    assert response.status_code == 200
    assert (await last_message(api, firm, conversation))["body"] == "before\ufffdafter"


@pytest.mark.parametrize(
    "sender",
    ["+12025550142", "+1 202 555 0142", "(202) 555-0142", "202.555.0142", "1-202-555-0142"],
)
async def test_the_client_number_in_any_national_format_finds_the_client(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, sender: str
) -> None:
    conversation = await texted_dana(api, firm)
    await text_in(api, ctx, from_=sender, to=firm.sms_number, body=f"From {sender}")
    assert (await last_message(api, firm, conversation))["body"] == f"From {sender}"


@pytest.mark.parametrize("sender", ["", "INFO", "12345", "+", "not a number", "+999999999999999"])
async def test_a_sender_that_is_no_phone_number_is_kept_in_the_inbox(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, sender: str
) -> None:
    response = await text_in(api, ctx, from_=sender, to=firm.sms_number, body="Who am I?")
    assert response.status_code == 200
    async with ctx.db.sessions() as session:
        stored = await session.scalar(select(InboundText))
    assert stored is not None
    assert (stored.body, stored.from_number) == ("Who am I?", sender)


async def test_unknown_parameters_are_accepted_and_kept_with_the_raw_text(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    response = await text_in(
        api, ctx, from_=DANA, to=firm.sms_number, body="Hi", FromCountry="US", NewThing="x"
    )
    assert response.status_code == 200
    async with ctx.db.sessions() as session:
        stored = await session.scalar(select(InboundText))
    assert stored is not None
    assert stored.params["NewThing"] == "x"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "multipart/form-data; boundary=x", None],
)
async def test_a_webhook_that_is_not_form_encoded_is_415_and_stores_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, content_type: str | None
) -> None:
    headers = {"X-Twilio-Signature": sign(ctx.settings.twilio_auth_token, PUBLIC_URL, {})}
    if content_type:
        headers["Content-Type"] = content_type
    body = b'{"MessageSid": "SM1", "From": "+12025550142", "Body": "hi"}'
    response = await api.post(INBOUND_PATH, content=body, headers=headers)
    assert response.status_code == 415
    assert "form-encoded" in response.json()["error"]["message"]
    assert await stored_inbound(ctx) == 0


async def test_a_replayed_signature_on_a_changed_body_is_403(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    params = {"MessageSid": new_sid(), "From": DANA, "To": firm.sms_number, "Body": "Real"}
    signature = sign(ctx.settings.twilio_auth_token, PUBLIC_URL + INBOUND_PATH, params)
    first = await api.post(INBOUND_PATH, data=params, headers={"X-Twilio-Signature": signature})
    assert first.status_code == 200
    replayed = {**params, "MessageSid": new_sid(), "Body": "Changed"}
    second = await api.post(INBOUND_PATH, data=replayed, headers={"X-Twilio-Signature": signature})
    assert second.status_code == 403
    assert await stored_inbound(ctx) == 1


async def test_a_replayed_request_unchanged_is_filed_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    params = {"MessageSid": new_sid(), "From": DANA, "To": firm.sms_number, "Body": "Once"}
    signature = sign(ctx.settings.twilio_auth_token, PUBLIC_URL + INBOUND_PATH, params)
    for _ in range(3):
        response = await api.post(
            INBOUND_PATH, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200
    assert await stored_inbound(ctx) == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("MessageSid", "SM" + "f" * 200),
        ("From", "+1" + "2" * 100),
        ("To", "+1" + "3" * 100),
    ],
)
async def test_an_overlong_inbound_field_is_422_not_a_server_error(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, field: str, value: str
) -> None:
    params = {"MessageSid": new_sid(), "From": DANA, "To": firm.sms_number, "Body": "Hi"}
    params[field] = value
    signature = sign(ctx.settings.twilio_auth_token, PUBLIC_URL + INBOUND_PATH, params)
    response = await api.post(INBOUND_PATH, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("MessageSid", "SM" + "f" * 200),
        ("MessageStatus", "delivered" * 10),
        ("ErrorCode", "3" * 100),
    ],
)
async def test_an_overlong_status_field_is_422_not_a_server_error(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, field: str, value: str
) -> None:
    params = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    params[field] = value
    path = "/webhooks/twilio/status"
    signature = sign(ctx.settings.twilio_auth_token, PUBLIC_URL + path, params)
    response = await api.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]
    async with ctx.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryEvent)) == 0


@pytest.mark.parametrize("path", ["/webhooks/twilio/status", INBOUND_PATH])
async def test_a_webhook_asked_with_get_is_405_naming_post(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_an_unknown_webhook_is_a_404_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.post("/webhooks/twilio/voice", data={"CallSid": "CA1"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_bytes_outside_utf8_in_the_query_are_403_not_a_crash(app: FastAPI) -> None:
    # httpx would percent-encode them, so the request is handed to the app as it would
    # arrive from a raw socket.
    body = b"MessageSid=SM1&MessageStatus=sent"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/webhooks/twilio/status",
        "raw_path": b"/webhooks/twilio/status",
        "query_string": b"d=\xff\xfe",
        "root_path": "",
        "headers": [
            (b"host", b"parley.test"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"x-twilio-signature", b"forged"),
        ],
        "client": ("203.0.113.9", 4000),
        "server": ("parley.test", 443),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    assert statuses == [403]
