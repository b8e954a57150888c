"""While the database is away, a person gets a page, not JSON, and keeps what they typed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select

from parley.db.engine import Database
from parley.db.models import Message
from parley.services.context import ServiceContext
from parley.services.staff_sessions import set_password
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.links import reply_tokens

BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"}
SAME_SITE = {"Origin": PUBLIC_URL}


@asynccontextmanager
async def database_away(ctx: ServiceContext, tmp_path: Path) -> AsyncIterator[None]:
    """The service's database unreachable: a closed port, or a file that cannot open."""
    working = ctx.db
    away = (
        f"sqlite:///{tmp_path}/no-such-directory/parley.db"
        if working.is_sqlite
        else "postgresql://postgres@127.0.0.1:9/parley"
    )
    ctx.db = Database(away)
    try:
        yield
    finally:
        await ctx.db.dispose()
        ctx.db = working


async def reply_link(api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin) -> str:
    dana = await new_contact(api, firm.headers, "Dana", mobile_phone="+12025550142")
    conversation = await new_conversation(api, firm.headers, [dana])
    path = f"/conversations/{conversation['id']}/messages"
    message = await post(api, path, firm.headers, body="News", send_as_sms=True)
    return (await reply_tokens(ctx, message["id"]))[dana["id"]]


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))


async def count_replies(ctx: ServiceContext, body: str) -> int:
    async with ctx.db.sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(Message).where(Message.body == body)
        )
    return int(found or 0)


async def test_the_reply_page_says_to_try_again_in_a_minute(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, tmp_path: Path
) -> None:
    token = await reply_link(api, ctx, firm)
    async with database_away(ctx, tmp_path):
        page = await api.get(f"/r/{token}", headers=BROWSER)

    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert page.headers["content-type"].startswith("text/html")
    assert "We cannot show your messages just now" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_a_reply_sent_meanwhile_is_kept_on_the_page_and_sent_once_when_sent_again(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, tmp_path: Path
) -> None:
    token = await reply_link(api, ctx, firm)
    form = hidden_fields((await api.get(f"/r/{token}", headers=BROWSER)).text)
    words = "I'll bring the <signed> forms on Tuesday & call first"
    async with database_away(ctx, tmp_path):
        refused = await api.post(f"/r/{token}", data={"body": words, **form}, headers=BROWSER)

    assert refused.status_code == 503
    assert "Your reply has not been sent yet" in refused.text
    assert "I&#39;ll bring the &lt;signed&gt; forms on Tuesday &amp; call first" in refused.text
    assert hidden_fields(refused.text) == form
    for _ in range(2):  # the client taps "Send again", twice
        again = await api.post(f"/r/{token}", data={"body": words, **form}, headers=BROWSER)
        assert again.status_code == 303
    assert await count_replies(ctx, words) == 1


async def test_a_staff_message_written_meanwhile_is_kept_with_what_sends_it_again(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, tmp_path: Path
) -> None:
    dana = await new_contact(api, firm.headers, "Dana", mobile_phone="+12025550142")
    conversation = await new_conversation(api, firm.headers, [dana])
    await set_password(ctx, firm.scope.staff_id, "correct horse battery")
    await api.post(
        "/app/login",
        data={"email": "avery@halemarsh.example", "password": "correct horse battery"},
        headers=SAME_SITE,
    )
    path = f"/app/conversations/{conversation['id']}/messages"
    form = hidden_fields((await api.get(f"/app/conversations/{conversation['id']}")).text)
    sent = {"body": "Hearing moved", "send_as_sms": "true", **form}
    async with database_away(ctx, tmp_path):
        refused = await api.post(path, data=sent, headers=SAME_SITE)

    assert refused.status_code == 503
    assert "Not saved yet" in refused.text
    assert ">Hearing moved</textarea>" in refused.text
    assert "It will be sent as SMS too" in refused.text
    assert hidden_fields(refused.text) == {k: v for k, v in sent.items() if k != "body"}


async def test_a_sign_in_sent_meanwhile_asks_to_try_again_and_never_shows_the_password(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, tmp_path: Path
) -> None:
    async with database_away(ctx, tmp_path):
        refused = await api.post(
            "/app/login",
            data={"email": "avery@halemarsh.example", "password": "correct horse battery"},
            headers=SAME_SITE,
        )

    assert refused.status_code == 503
    assert "correct horse battery" not in refused.text
    assert '<a href="/app/login">Try again</a>' in refused.text


async def test_the_api_still_answers_in_json(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, tmp_path: Path
) -> None:
    async with database_away(ctx, tmp_path):
        refused = await api.get("/api/v1/conversations", headers=firm.headers)

    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "unavailable"
