"""The audit log: each staff action on a conversation leaves one entry naming who and when."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from parley.services.context import ServiceContext
from parley.services.staff_sessions import set_password
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.support.api import messages_of, new_contact, new_conversation, post
from tests.support.twilio_webhooks import text_in

DANA = "+12025550142"


@pytest.fixture
async def dana(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    return dict(await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone=DANA))


@pytest.fixture
async def conversation(
    api: httpx.AsyncClient, firm: StaffLogin, dana: dict[str, Any]
) -> dict[str, Any]:
    return dict(await new_conversation(api, firm.headers, [dana], subject="Probate"))


async def send(
    api: httpx.AsyncClient,
    firm: StaffLogin,
    conversation: dict[str, Any],
    body: str,
    *,
    send_as_sms: bool = False,
) -> dict[str, Any]:
    path = f"/conversations/{conversation['id']}/messages"
    return dict(await post(api, path, firm.headers, body=body, send_as_sms=send_as_sms))


async def audit_page(
    api: httpx.AsyncClient, firm: StaffLogin, conversation_id: str, **params: Any
) -> httpx.Response:
    return await api.get(
        f"/api/v1/conversations/{conversation_id}/audit", params=params, headers=firm.headers
    )


async def trail(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await audit_page(api, firm, conversation["id"])
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def by(firm: StaffLogin) -> dict[str, str]:
    # The firm fixture's staff member has no name given, so it is taken from the email.
    return {"id": str(firm.scope.staff_id), "name": "avery"}


async def test_sending_with_and_without_sms_leaves_one_entry_each(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    portal = await send(api, firm, conversation, "Draft attached")
    texted = await send(api, firm, conversation, "Hearing moved", send_as_sms=True)

    first, second = await trail(api, firm, conversation)
    assert first["action"] == second["action"] == "message_sent"
    assert first["staff"] == second["staff"] == by(firm)
    assert (first["message_id"], second["message_id"]) == (portal["id"], texted["id"])
    assert at(first["at"]) == at(portal["created_at"])
    assert at(second["at"]) == at(texted["created_at"])
    assert first["detail"] == {"send_as_sms": False, "recipients": 0}
    assert second["detail"] == {"send_as_sms": True, "recipients": 1}


async def test_resending_as_sms_leaves_one_entry(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    message = await send(api, firm, conversation, "Draft attached")
    resent = await post(api, f"/messages/{message['id']}/resend-sms", firm.headers)

    entries = await trail(api, firm, conversation)
    assert [e["action"] for e in entries] == ["message_sent", "sms_resent"]
    entry = entries[1]
    assert entry["staff"] == by(firm)
    assert entry["message_id"] == message["id"]
    assert entry["detail"] == {"recipients": 1}
    (sms,) = resent["sms"]
    assert at(entry["at"]) == at(sms["updated_at"])  # the time the new text was queued


async def test_filing_an_inbox_text_leaves_one_entry_and_routing_leaves_none(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    dana: dict[str, Any],
    conversation: dict[str, Any],
) -> None:
    await send(api, firm, conversation, "News", send_as_sms=True)
    other = await new_conversation(api, firm.headers, [dana], subject="Lease")
    await send(api, firm, other, "More news", send_as_sms=True)
    # Two conversations texted Dana, so her plain reply waits in the inbox.
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Which one?")
    assert [e["action"] for e in await trail(api, firm, conversation)] == ["message_sent"]
    (held,) = (await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"]

    filed = await post(
        api, f"/inbox/{held['id']}/assign", firm.headers, conversation_id=conversation["id"]
    )

    entries = await trail(api, firm, conversation)
    assert [e["action"] for e in entries] == ["message_sent", "inbox_text_filed"]
    entry = entries[1]
    assert entry["staff"] == by(firm)
    assert entry["message_id"] == filed["id"]
    assert entry["detail"] == {"inbound_text_id": held["id"]}
    assert at(entry["at"]) == at(filed["created_at"])
    assert [e["action"] for e in await trail(api, firm, other)] == ["message_sent"]


async def test_failed_actions_leave_no_entry(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    other_firm: StaffLogin,
    dana: dict[str, Any],
    conversation: dict[str, Any],
) -> None:
    messages = f"/api/v1/conversations/{conversation['id']}/messages"
    empty = await api.post(messages, json={"body": "   "}, headers=firm.headers)
    assert empty.status_code == 422

    message = await send(api, firm, conversation, "Draft attached", send_as_sms=True)
    stranger = await api.post(
        f"/api/v1/messages/{message['id']}/resend-sms", headers=other_firm.headers
    )
    assert stranger.status_code == 404

    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Thanks")  # routed, not held
    listed = await messages_of(api, firm.headers, conversation)
    (reply,) = [m for m in listed if m["channel"] == "sms"]
    not_staff = await api.post(f"/api/v1/messages/{reply['id']}/resend-sms", headers=firm.headers)
    assert not_staff.status_code == 422

    assert [e["message_id"] for e in await trail(api, firm, conversation)] == [message["id"]]


async def test_a_second_filing_of_the_same_text_leaves_no_second_entry(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await text_in(api, ctx, from_="+12025550999", to=firm.sms_number, body="Who is this?")
    (held,) = (await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"]
    path = f"/api/v1/inbox/{held['id']}/assign"
    (dana,) = conversation["participants"]
    target = {"conversation_id": conversation["id"], "contact_id": dana["contact_id"]}
    assert (await api.post(path, json=target, headers=firm.headers)).status_code == 201
    assert (await api.post(path, json=target, headers=firm.headers)).status_code == 409
    assert [e["action"] for e in await trail(api, firm, conversation)] == ["inbox_text_filed"]


async def test_another_firm_gets_404_and_sees_nothing(
    api: httpx.AsyncClient, firm: StaffLogin, other_firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await send(api, firm, conversation, "Draft attached")
    response = await audit_page(api, other_firm, conversation["id"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Draft" not in response.text

    theirs = await new_conversation(
        api, other_firm.headers, [await new_contact(api, other_firm.headers, "Lee")]
    )
    assert await trail(api, other_firm, theirs) == []


async def test_without_a_token_it_is_401(
    api: httpx.AsyncClient, conversation: dict[str, Any]
) -> None:
    response = await api.get(f"/api/v1/conversations/{conversation['id']}/audit")
    assert response.status_code == 401


async def test_pages_run_oldest_first_and_end(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    sent = [await send(api, firm, conversation, f"Note {n}") for n in range(5)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await audit_page(api, firm, conversation["id"], **params)).json()
        seen += [e["message_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [m["id"] for m in sent]
    assert pages == 3

    bad = await audit_page(api, firm, conversation["id"], cursor="not-a-cursor")
    assert bad.status_code == 422


async def test_actions_in_the_staff_web_app_are_recorded_too(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await set_password(ctx, firm.scope.staff_id, "correct horse battery")
    same_site = {"Origin": PUBLIC_URL}
    await api.post(
        "/app/login",
        data={"email": "avery@halemarsh.example", "password": "correct horse battery"},
        headers=same_site,
    )
    page = await api.get(f"/app/conversations/{conversation['id']}")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf
    written = await api.post(
        f"/app/conversations/{conversation['id']}/messages",
        data={"body": "Hearing moved", "send_as_sms": "true", "csrf": csrf.group(1)},
        headers=same_site,
    )
    assert written.status_code == 303

    (entry,) = await trail(api, firm, conversation)
    assert entry["action"] == "message_sent"
    assert entry["staff"] == by(firm)
    assert entry["detail"] == {"send_as_sms": True, "recipients": 1}
