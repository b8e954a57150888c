"""The staff web app: sign-in, sessions, CSRF, and one firm never seeing another's."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parley.db.models import Message
from parley.services.context import ServiceContext
from parley.services.staff_sessions import set_password
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.clock import TestClock
from tests.support.twilio_webhooks import text_in

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": PUBLIC_URL}


async def sign_in(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post(
        "/app/login", data={"email": email, "password": password}, headers=SAME_SITE
    )


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page carries a CSRF token"
    return found.group(1)


@pytest.fixture
async def staff(ctx: ServiceContext, firm: StaffLogin) -> StaffLogin:
    await set_password(ctx, firm.scope.staff_id, PASSWORD)
    return firm


@pytest.fixture
async def conversation(api: httpx.AsyncClient, staff: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, staff.headers, "Dana Whitfield", mobile_phone="+12025550142")
    return dict(await new_conversation(api, staff.headers, [dana], subject="Probate documents"))


async def test_signing_in_sets_a_safe_session_cookie_and_opens_the_messages_tab(
    api: httpx.AsyncClient, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    response = await sign_in(api, "avery@halemarsh.example")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = await api.get("/app", follow_redirects=True)
    assert "Probate documents" in page.text
    assert "Sign out" in page.text


@pytest.mark.parametrize(
    ("email", "password"),
    [("avery@halemarsh.example", "wrong password"), ("nobody@halemarsh.example", PASSWORD)],
    ids=["wrong password", "unknown email"],
)
async def test_a_failed_sign_in_says_so_without_telling_which_part_was_wrong(
    api: httpx.AsyncClient, staff: StaffLogin, email: str, password: str
) -> None:
    response = await sign_in(api, email, password)
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert "set-cookie" not in response.headers


async def test_without_a_session_the_app_asks_to_sign_in(api: httpx.AsyncClient) -> None:
    response = await api.get("/app")
    assert (response.status_code, response.headers["location"]) == (303, "/app/login")


async def test_an_expired_session_asks_to_sign_in_again(
    api: httpx.AsyncClient, staff: StaffLogin, clock: TestClock
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    clock.advance(hours=13)
    response = await api.get("/app")
    assert response.headers["location"] == "/app/login"


async def test_signing_out_ends_the_session(
    api: httpx.AsyncClient, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    token = csrf_of((await api.get("/app", follow_redirects=True)).text)
    cookie = api.cookies.get("parley_session")
    await api.post("/app/logout", data={"csrf": token}, headers=SAME_SITE)
    api.cookies.set("parley_session", cookie or "")
    assert (await api.get("/app")).headers["location"] == "/app/login"


async def count_messages(ctx: ServiceContext) -> int:
    async with ctx.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.mark.parametrize(
    ("csrf", "headers"),
    [(None, SAME_SITE), ("0" * 64, SAME_SITE), ("real", {"Origin": "https://evil.example"})],
    ids=["no token", "wrong token", "from another site"],
)
async def test_forged_forms_are_refused_and_write_nothing(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    staff: StaffLogin,
    conversation: dict[str, Any],
    csrf: str | None,
    headers: dict[str, str],
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    page = await api.get(f"/app/conversations/{conversation['id']}")
    fields = {"body": "Forged", "send_as_sms": "true"}
    if csrf is not None:
        fields["csrf"] = csrf_of(page.text) if csrf == "real" else csrf
    response = await api.post(
        f"/app/conversations/{conversation['id']}/messages", data=fields, headers=headers
    )
    assert response.status_code == 403
    assert await count_messages(ctx) == 0


async def test_a_message_written_in_the_app_is_sent_as_sms_with_statuses_shown(
    api: httpx.AsyncClient, ctx: ServiceContext, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    page = await api.get(f"/app/conversations/{conversation['id']}")
    written = await api.post(
        f"/app/conversations/{conversation['id']}/messages",
        data={"body": "Hearing moved", "send_as_sms": "true", "csrf": csrf_of(page.text)},
        headers=SAME_SITE,
        follow_redirects=True,
    )
    assert "Hearing moved" in written.text
    assert 'class="badge sending"' in written.text


def form_keys_of(page: str) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([^"]+)"', page)


async def test_a_double_click_on_send_writes_and_texts_once(
    api: httpx.AsyncClient, ctx: ServiceContext, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    page = (await api.get(f"/app/conversations/{conversation['id']}")).text
    form = {
        "body": "Hearing moved",
        "send_as_sms": "true",
        "csrf": csrf_of(page),
        "idempotency_key": form_keys_of(page)[-1],
    }
    path = f"/app/conversations/{conversation['id']}/messages"
    first = await api.post(path, data=form, headers=SAME_SITE)
    second = await api.post(path, data=form, headers=SAME_SITE, follow_redirects=True)

    assert first.status_code == 303
    assert second.status_code == 200
    assert await count_messages(ctx) == 1
    assert second.text.count('class="badge sending"') == 1


async def test_a_double_click_on_resend_as_sms_texts_once_more(
    api: httpx.AsyncClient, ctx: ServiceContext, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        staff.headers,
        body="Hearing moved",
        send_as_sms=True,
    )
    await sign_in(api, "avery@halemarsh.example")
    page = (await api.get(f"/app/conversations/{conversation['id']}")).text
    (resend_key,) = [key for key in form_keys_of(page) if key.endswith(message["id"])]
    form = {"csrf": csrf_of(page), "idempotency_key": resend_key}
    for _ in range(2):
        await api.post(f"/app/messages/{message['id']}/resend-sms", data=form, headers=SAME_SITE)

    fetched = await api.get(f"/api/v1/messages/{message['id']}", headers=staff.headers)
    assert len(fetched.json()["sms"]) == 2


async def test_replies_are_marked_by_channel_with_the_original_one_tap_away(
    api: httpx.AsyncClient, ctx: ServiceContext, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        staff.headers,
        body="Original question",
        send_as_sms=True,
    )
    await text_in(api, ctx, from_="+12025550142", to=staff.sms_number, body="Plain answer")
    await sign_in(api, "avery@halemarsh.example")
    page = (await api.get(f"/app/conversations/{conversation['id']}")).text
    assert "via SMS" in page and "Show original message" in page
    assert page.index("Show original message") < page.rindex("Original question")


async def test_a_new_client_reply_marks_the_conversation_unread(
    api: httpx.AsyncClient, ctx: ServiceContext, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        staff.headers,
        body="Question",
        send_as_sms=True,
    )
    await sign_in(api, "avery@halemarsh.example")
    await api.get(f"/app/conversations/{conversation['id']}")
    await text_in(api, ctx, from_="+12025550142", to=staff.sms_number, body="Answer")
    listing = (await api.get("/app", params={"q": "probate"})).text
    assert 'aria-label="Unread"' in listing


async def test_search_finds_conversations_by_contact_name(
    api: httpx.AsyncClient, staff: StaffLogin, conversation: dict[str, Any]
) -> None:
    await sign_in(api, "avery@halemarsh.example")
    assert "Probate documents" in (await api.get("/app", params={"q": "whitf"})).text
    assert "Probate documents" not in (await api.get("/app", params={"q": "zebra"})).text


async def test_staff_of_another_firm_never_see_the_conversation(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    staff: StaffLogin,
    other_firm: StaffLogin,
    conversation: dict[str, Any],
) -> None:
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        staff.headers,
        body="Privileged advice",
    )
    await set_password(ctx, other_firm.scope.staff_id, PASSWORD)
    await sign_in(api, "sam@other.example")
    own = await api.get("/app", follow_redirects=True)
    csrf = csrf_of(own.text)
    assert "Probate documents" not in own.text
    cid = conversation["id"]
    for path in (
        f"/app/conversations/{cid}",
        f"/app/conversations/{cid}/thread",
        f"/app/conversations/{cid}/events",
    ):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert "Privileged advice" not in response.text
    for path, data in (
        (f"/app/conversations/{cid}/messages", {"body": "Intrusion"}),
        (f"/app/messages/{message['id']}/resend-sms", {}),
    ):
        response = await api.post(path, data={**data, "csrf": csrf}, headers=SAME_SITE)
        assert response.status_code == 404, path
    assert await count_messages(ctx) == 1
