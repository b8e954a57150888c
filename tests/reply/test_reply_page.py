"""The reply page: each link opens its own conversation; GETs change nothing but opened_at."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from parley.db.models import ConversationParticipant, Message, ReplyLink
from parley.domain.messages import MAX_BODY_CHARACTERS
from parley.services.context import ServiceContext
from parley.services.reply_page import finish_recording_openings
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.clock import TestClock
from tests.support.links import reply_tokens

BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"}


async def sent_to(
    api: httpx.AsyncClient, firm: StaffLogin, people: list[str], subject: str, body: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    contacts = [
        await new_contact(api, firm.headers, name, mobile_phone=f"+1202555014{i}")
        for i, name in enumerate(people)
    ]
    conversation = await new_conversation(api, firm.headers, contacts, subject=subject)
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body=body,
        send_as_sms=True,
    )
    return conversation, message, contacts


async def opened_at(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, message_id: str
) -> list[Any]:
    """What staff see once the visits so far are recorded (a page does not wait for it)."""
    await finish_recording_openings(ctx)
    message = (await api.get(f"/api/v1/messages/{message_id}", headers=firm.headers)).json()
    return [s["opened_at"] for s in message["sms"]]


def form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(form_token|idempotency_key)" value="([^"]+)"', page))


async def remove_every_participant(ctx: ServiceContext, clock: TestClock) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(update(ConversationParticipant).values(removed_at=clock()))


async def count_messages(ctx: ServiceContext) -> int:
    async with ctx.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_each_recipient_link_opens_their_own_conversation_only(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, probate, (dana, lee) = await sent_to(api, firm, ["Dana", "Lee"], "Probate", "Probate news")
    _, lease, _ = await sent_to(api, firm, ["Sam"], "Lease renewal", "Lease news")
    tokens = await reply_tokens(ctx, probate["id"])
    assert tokens[dana["id"]] != tokens[lee["id"]]
    page = await api.get(f"/r/{tokens[dana['id']]}", headers=BROWSER)
    assert page.status_code == 200
    assert "Probate news" in page.text and "Hale &amp; Marsh LLP" in page.text
    assert "as Dana" in page.text
    assert "Lease" not in page.text
    assert lease["body"] not in page.text


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t[:10], lambda _: "x" * 32],
)
async def test_tampered_or_unknown_tokens_get_a_plain_404(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, mangle: Any
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    page = await api.get(f"/r/{mangle(token)}", headers=BROWSER)
    assert page.status_code == 404
    assert "This link does not work" in page.text
    assert "News" not in page.text


async def test_an_expired_link_says_so_and_offers_a_fresh_one(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, clock: TestClock
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    clock.advance(days=7)
    page = await api.get(f"/r/{token}", headers=BROWSER)
    assert page.status_code == 410
    assert "This link has expired" in page.text
    fresh = await api.post(f"/r/{token}/fresh-link", headers=BROWSER)
    assert "A new link is on its way" in fresh.text
    again = await api.post(f"/r/{token}/fresh-link", headers=BROWSER)
    assert "a few minutes ago" in again.text
    sms = (await api.get(f"/api/v1/messages/{message['id']}", headers=firm.headers)).json()["sms"]
    assert len(sms) == 2


async def test_a_removed_participant_loses_access_at_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, clock: TestClock
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    await remove_every_participant(ctx, clock)
    assert (await api.get(f"/r/{token}", headers=BROWSER)).status_code == 404


async def test_opening_twice_changes_nothing_but_opened_at(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    before = await count_messages(ctx)
    assert await opened_at(api, ctx, firm, message["id"]) == [None]
    await api.get(f"/r/{token}", headers=BROWSER)
    first = await opened_at(api, ctx, firm, message["id"])
    await api.get(f"/r/{token}", headers=BROWSER)
    assert await opened_at(api, ctx, firm, message["id"]) == first != [None]
    assert await count_messages(ctx) == before


async def test_links_opened_at_the_same_moment_are_each_marked_opened(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    # First visits that arrive together are recorded together (one statement for many);
    # one client opens theirs twice at once.
    people = [f"Client {i}" for i in range(8)]
    _, message, contacts = await sent_to(api, firm, people, "Class action", "Hearing moved")
    tokens = list((await reply_tokens(ctx, message["id"])).values())
    visits = [api.get(f"/r/{token}", headers=BROWSER) for token in [*tokens, tokens[0]]]
    pages = await asyncio.gather(*visits)
    assert [page.status_code for page in pages] == [200] * (len(contacts) + 1)
    assert None not in await opened_at(api, ctx, firm, message["id"])


async def test_pages_opened_at_the_same_moment_each_show_their_own_link(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, clock: TestClock
) -> None:
    # Pages asked for together are read together (on PostgreSQL one statement for the
    # pages that wait while others are read): none may show another's conversation,
    # reader or fate.
    _, probate, people = await sent_to(
        api, firm, ["Dana", "Ola", "Lee", "Kim"], "Probate", "Probate news"
    )
    lease_conversation, lease, (sam,) = await sent_to(api, firm, ["Sam"], "Lease", "Lease 0")
    for i in range(1, 12):
        await post(
            api,
            f"/conversations/{lease_conversation['id']}/messages",
            firm.headers,
            body=f"Lease {i}",
        )
    probate_tokens = await reply_tokens(ctx, probate["id"])
    dana, ola, lee, kim = (probate_tokens[person["id"]] for person in people)
    sam_token = (await reply_tokens(ctx, lease["id"]))[sam["id"]]
    async with ctx.db.transaction() as session:
        await session.execute(
            update(ReplyLink)
            .where(ReplyLink.contact_id == uuid.UUID(people[2]["id"]))
            .values(expires_at=clock())
        )
        await session.execute(
            update(ConversationParticipant)
            .where(ConversationParticipant.contact_id == uuid.UUID(people[3]["id"]))
            .values(removed_at=clock())
        )
    tokens = [dana, ola, lee, kim, "x" * 32, sam_token, dana]
    pages = await asyncio.gather(*(api.get(f"/r/{t}", headers=BROWSER) for t in tokens))
    assert [page.status_code for page in pages] == [200, 200, 410, 404, 404, 200, 200]
    for page, reader in zip(pages, ["Dana", "Ola", None, None, None, "Sam", "Dana"], strict=True):
        if reader is not None:
            assert f"as {reader}<" in page.text
    for page in (pages[0], pages[1], pages[6]):
        assert "Probate news" in page.text and "Lease" not in page.text
    assert "Lease 11" in pages[5].text and "Lease 2<" in pages[5].text
    assert "Lease 1<" not in pages[5].text and "Earlier messages" in pages[5].text
    assert "Probate" not in pages[5].text


async def test_a_visit_is_answered_while_its_record_waits_for_the_database(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time, and the page's read waits for it too")
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    async with ctx.db.transaction() as session:  # another writer holds the link's row
        await session.execute(update(ReplyLink).values(expires_at=ReplyLink.expires_at))
        page = await asyncio.wait_for(api.get(f"/r/{token}", headers=BROWSER), timeout=10)
        assert page.status_code == 200
    assert None not in await opened_at(api, ctx, firm, message["id"])  # written once free


@pytest.mark.parametrize(("stops_working", "status"), [("expires", 410), ("is_removed", 404)])
async def test_opening_a_link_that_no_longer_works_does_not_mark_it_opened(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    stops_working: str,
    status: int,
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    if stops_working == "expires":
        clock.advance(days=7)
    else:
        await remove_every_participant(ctx, clock)
    assert (await api.get(f"/r/{token}", headers=BROWSER)).status_code == status
    assert await opened_at(api, ctx, firm, message["id"]) == [None]


@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.23.20.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Microsoft Office/16.0; Outlook)",
        "",
    ],
)
async def test_a_link_previewer_gets_the_page_without_marking_it_opened(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, agent: str
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    page = await api.get(f"/r/{token}", headers={"User-Agent": agent})
    assert page.status_code == 200
    assert await opened_at(api, ctx, firm, message["id"]) == [None]


async def test_a_reply_through_the_page_lands_as_quick_link_from_that_contact(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    conversation, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    page = await api.get(f"/r/{token}", headers=BROWSER)
    fields = form_fields(page.text)
    sent = await api.post(
        f"/r/{token}",
        data={"body": "Thank you!", **fields},
        headers=BROWSER,
        follow_redirects=True,
    )
    assert sent.status_code == 200
    assert "Your reply has been sent" in sent.text and "Thank you!" in sent.text
    listed = await api.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=firm.headers
    )
    reply = listed.json()["items"][-1]
    assert (reply["body"], reply["channel"]) == ("Thank you!", "quick_link")
    assert reply["author"] == {"type": "contact", "id": dana["id"], "name": "Dana"}
    assert reply["in_reply_to_id"] == message["id"]


async def test_a_double_submit_posts_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    fields = form_fields((await api.get(f"/r/{token}", headers=BROWSER)).text)
    for _ in range(2):
        await api.post(f"/r/{token}", data={"body": "Once", **fields}, headers=BROWSER)
    async with ctx.db.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Message).where(Message.body == "Once")
            )
            == 1
        )


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({"form_token": "", "idempotency_key": "k1"}, BROWSER),
        ({"form_token": "forged-token", "idempotency_key": "k2"}, BROWSER),
        (None, BROWSER | {"Origin": "https://evil.example"}),
    ],
    ids=["no token", "wrong token", "posted from another site"],
)
async def test_a_forged_form_is_refused(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    fields: dict[str, str] | None,
    headers: dict[str, str],
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    real = form_fields((await api.get(f"/r/{token}", headers=BROWSER)).text)
    before = await count_messages(ctx)
    refused = await api.post(
        f"/r/{token}", data={"body": "Forged", **(fields or real)}, headers=headers
    )
    assert refused.status_code == 403
    assert await count_messages(ctx) == before


@pytest.mark.parametrize(("body", "says"), [("   ", "empty"), ("x" * 10_001, "10,001")])
async def test_a_bad_reply_is_shown_again_with_the_typed_text_kept(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, body: str, says: str
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    fields = form_fields((await api.get(f"/r/{token}", headers=BROWSER)).text)
    shown = await api.post(f"/r/{token}", data={"body": body, **fields}, headers=BROWSER)
    assert shown.status_code == 422
    assert says in shown.text
    assert body.strip()[:50] in shown.text


async def test_the_longest_reply_in_four_byte_characters_is_accepted_whole(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    fields = form_fields((await api.get(f"/r/{token}", headers=BROWSER)).text)
    longest = "😀" * MAX_BODY_CHARACTERS  # 120,000 bytes once the browser percent-encodes it
    sent = await api.post(f"/r/{token}", data={"body": longest, **fields}, headers=BROWSER)
    assert sent.status_code == 303
    async with ctx.db.sessions() as session:
        assert await session.scalar(select(Message.body).where(Message.body == longest))


async def test_long_bodies_are_cut_with_a_way_to_read_on(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    long_body = "Para. " * 300
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", long_body)
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    page = (await api.get(f"/r/{token}", headers=BROWSER)).text
    assert "<details" in page and "Show more" in page


async def test_only_the_latest_ten_messages_are_shown(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    conversation, first, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "Message 0")
    for i in range(1, 12):
        await post(
            api, f"/conversations/{conversation['id']}/messages", firm.headers, body=f"Message {i}"
        )
    token = (await reply_tokens(ctx, first["id"]))[dana["id"]]
    page = (await api.get(f"/r/{token}", headers=BROWSER)).text
    assert "Message 11" in page and "Message 2<" in page
    assert "Message 1<" not in page and "Earlier messages" in page


async def test_pages_carry_strict_security_headers(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    for response in (
        await api.get(f"/r/{token}", headers=BROWSER),
        await api.get("/r/unknown-token", headers=BROWSER),
    ):
        headers = response.headers
        assert "script-src" not in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


async def test_requests_beyond_the_limit_per_token_get_429(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    statuses = [
        (await api.get("/r/guessing-a-token", headers=BROWSER)).status_code for _ in range(31)
    ]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


async def test_guessing_tokens_locks_the_address_out_and_a_lucky_guess_gains_nothing(
    app: FastAPI, api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    _, message, (dana,) = await sent_to(api, firm, ["Dana"], "Probate", "News")
    token = (await reply_tokens(ctx, message["id"]))[dana["id"]]
    guesses = [secrets.token_urlsafe(24) for _ in range(300)]
    statuses = Counter([(await api.get(f"/r/{g}", headers=BROWSER)).status_code for g in guesses])
    assert statuses == {404: 120, 429: 180}
    assert (await api.get(f"/r/{token}", headers=BROWSER)).status_code == 429

    elsewhere = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=elsewhere, base_url=api.base_url) as dana_phone:
        assert (await dana_phone.get(f"/r/{token}", headers=BROWSER)).status_code == 200
