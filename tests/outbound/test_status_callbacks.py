"""Status callbacks: signed, forward-only, duplicates and late arrivals change nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from parley.db.models import DeliveryEvent, SmsDelivery
from parley.providers.twilio.signature import sign
from parley.services.context import ServiceContext
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.twilio_webhooks import new_sid

STATUS_PATH = "/webhooks/twilio/status"


async def queued_delivery(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, firm.headers, "Dana", mobile_phone="+12025550142")
    conversation = await new_conversation(api, firm.headers, [dana])
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="Your documents are ready.",
        send_as_sms=True,
    )
    (sms,) = message["sms"]
    return {"message_id": message["id"], **sms}


async def callback(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    delivery_id: str,
    status: str,
    *,
    sid: str = "SM" + "a" * 32,
    error_code: str | None = None,
    signature: str | None = "sign",
    hint: bool = True,
) -> httpx.Response:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ctx.settings.twilio_account_sid,
        "From": "+12025550100",
        "To": "+12025550142",
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    # The dispatcher names the delivery in the callback URL; without it, the sid finds it.
    path = f"{STATUS_PATH}?d={delivery_id}" if hint else STATUS_PATH
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(
            ctx.settings.twilio_auth_token, PUBLIC_URL + path, params
        )
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await api.post(path, data=params, headers=headers)


async def status_of(api: httpx.AsyncClient, firm: StaffLogin, message_id: str) -> dict[str, Any]:
    message = (await api.get(f"/api/v1/messages/{message_id}", headers=firm.headers)).json()
    (sms,) = message["sms"]
    return dict(sms)


async def test_signed_callbacks_walk_the_status_to_delivered(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    assert delivery["status"] == "sending"
    seen = []
    for status in ("queued", "sent", "delivered"):
        assert (await callback(api, ctx, delivery["delivery_id"], status)).status_code == 204
        seen.append((await status_of(api, firm, delivery["message_id"]))["status"])
    assert seen == ["sending", "sent", "delivered"]


async def test_a_failure_code_ends_failed_with_the_code_and_a_reason(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    await callback(api, ctx, delivery["delivery_id"], "sent")
    await callback(api, ctx, delivery["delivery_id"], "undelivered", error_code="30003")
    sms = await status_of(api, firm, delivery["message_id"])
    assert sms["status"] == "failed"
    assert sms["error_code"] == "30003"
    assert "nreachable" in sms["error_message"]


async def test_read_receipts_count_as_delivered(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    await callback(api, ctx, delivery["delivery_id"], "read")
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "delivered"


async def test_a_late_sent_never_overwrites_delivered(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    await callback(api, ctx, delivery["delivery_id"], "delivered")
    before = await status_of(api, firm, delivery["message_id"])
    await callback(api, ctx, delivery["delivery_id"], "sent")
    assert await status_of(api, firm, delivery["message_id"]) == before


async def test_every_event_is_kept_even_duplicates(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    for status in ("sent", "sent", "delivered", "sent"):
        await callback(api, ctx, delivery["delivery_id"], status)
    async with ctx.db.sessions() as session:
        kept = list(
            await session.scalars(
                select(DeliveryEvent.provider_status).order_by(DeliveryEvent.received_at)
            )
        )
    assert kept == ["sent", "sent", "delivered", "sent"]


async def test_a_callback_before_the_send_is_recorded_takes_the_text_off_the_queue(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    await callback(api, ctx, delivery["delivery_id"], "sent", sid="SM" + "b" * 32)
    async with ctx.db.sessions() as session:
        row = await session.get_one(SmsDelivery, uuid.UUID(delivery["delivery_id"]))
    assert row.provider_id == "SM" + "b" * 32
    assert row.next_attempt_at is None
    assert row.status == "sent"


async def test_without_the_delivery_in_the_url_the_provider_id_finds_the_text(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    sid = new_sid()
    await callback(api, ctx, delivery["delivery_id"], "sent", sid=sid)
    response = await callback(api, ctx, delivery["delivery_id"], "delivered", sid=sid, hint=False)
    assert response.status_code == 204
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "delivered"


async def event_count(ctx: ServiceContext) -> int:
    async with ctx.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(DeliveryEvent)) or 0


@pytest.mark.parametrize("hint", [True, False], ids=["by-delivery", "by-provider-id"])
async def test_a_callback_about_a_text_we_never_sent_is_acknowledged_and_kept_out(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, hint: bool
) -> None:
    # 204, not an error: Twilio would retry a text that is not ours for nothing.
    response = await callback(api, ctx, str(uuid.uuid4()), "delivered", sid=new_sid(), hint=hint)
    assert response.status_code == 204
    assert await event_count(ctx) == 0


async def test_a_callback_naming_the_delivery_of_another_text_changes_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    await callback(api, ctx, delivery["delivery_id"], "sent", sid=new_sid())
    response = await callback(api, ctx, delivery["delivery_id"], "failed", sid=new_sid())
    assert response.status_code == 204
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "sent"
    assert await event_count(ctx) == 1


async def test_callbacks_arriving_together_keep_every_event_and_end_at_the_final_state(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    sid = new_sid()
    statuses = ["sent", "delivered", "sent", "queued", "sent", "delivered", "sending", "sent"]
    responses = await asyncio.gather(
        *(callback(api, ctx, delivery["delivery_id"], status, sid=sid) for status in statuses)
    )
    assert [r.status_code for r in responses] == [204] * len(statuses)
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "delivered"
    assert await event_count(ctx) == len(statuses)


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "forged"],
    ids=["missing", "empty", "wrong", "garbage"],
)
async def test_forged_or_unsigned_callbacks_are_403_and_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, signature: str | None
) -> None:
    delivery = await queued_delivery(api, firm)
    response = await callback(api, ctx, delivery["delivery_id"], "delivered", signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "sending"
    async with ctx.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryEvent)) == 0


async def test_a_signature_for_other_parameters_is_refused(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    delivery = await queued_delivery(api, firm)
    path = f"{STATUS_PATH}?d={delivery['delivery_id']}"
    signed_for = {"MessageSid": "SM1", "MessageStatus": "sent"}
    tampered = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    response = await api.post(
        path,
        data=tampered,
        headers={
            "X-Twilio-Signature": sign(
                ctx.settings.twilio_auth_token, PUBLIC_URL + path, signed_for
            )
        },
    )
    assert response.status_code == 403


PATHS = {
    "delivered": ["queued", "sending", "sent", "delivered"],
    "read": ["queued", "sent", "delivered", "read"],
    "undelivered": ["queued", "sending", "sent", "undelivered"],
    "failed": ["accepted", "queued", "failed"],
}
FINAL = {"delivered": "delivered", "read": "delivered", "undelivered": "failed", "failed": "failed"}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_shuffled_duplicate_callbacks_end_at_the_highest_state(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, data: st.DataObject
) -> None:
    outcome = data.draw(st.sampled_from(sorted(PATHS)))
    events = data.draw(
        st.lists(st.sampled_from(PATHS[outcome]), min_size=0, max_size=6).map(
            lambda extra: PATHS[outcome] + extra
        )
    )
    shuffled = data.draw(st.permutations(events))
    delivery = await queued_delivery(api, firm)
    sid = new_sid()  # examples share the database; each text has its own provider id
    for status in shuffled:
        await callback(api, ctx, delivery["delivery_id"], status, sid=sid)
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == FINAL[outcome]


async def test_a_provider_id_already_naming_another_text_is_refused_for_a_text_not_yet_sent(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    sent = await queued_delivery(api, firm)
    not_yet_sent = await queued_delivery(api, firm)
    sid = new_sid()
    await callback(api, ctx, sent["delivery_id"], "sent", sid=sid)
    response = await callback(api, ctx, not_yet_sent["delivery_id"], "delivered", sid=sid)
    assert response.status_code == 204
    assert (await status_of(api, firm, not_yet_sent["message_id"]))["status"] == "sending"
    assert (await status_of(api, firm, sent["message_id"]))["status"] == "sent"
    assert await event_count(ctx) == 1
