"""Email notices of new messages, through a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from parley.db.models import EmailNotice, Firm
from parley.dispatch.email_outbox import EmailOutbox
from parley.providers.email import SmtpSender
from parley.services.context import ServiceContext
from parley.services.reply_page import finish_recording_openings
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.clock import TestClock
from tests.support.links import reply_tokens
from tests.support.smtp import Mailbox, smtp_server, text_of

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh) Safari/605"}
SECRET_WORDS = "The settlement offer is 40,000"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
async def conversation(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, firm.headers, "Dana Whitfield", email="dana@example.com")
    lee = await new_contact(api, firm.headers, "Lee Whitfield")  # no email: no notice
    return dict(await new_conversation(api, firm.headers, [dana, lee]))


async def write(api: httpx.AsyncClient, firm: StaffLogin, conversation: Any, body: str) -> Any:
    return await post(api, f"/conversations/{conversation['id']}/messages", firm.headers, body=body)


async def after_the_delay(ctx: ServiceContext, clock: TestClock, outbox: EmailOutbox) -> None:
    clock.advance(seconds=ctx.settings.email_notice_delay_seconds + 1)
    await outbox.work_once()


async def statuses(ctx: ServiceContext) -> list[str]:
    async with ctx.db.sessions() as session:
        return list(await session.scalars(select(EmailNotice.status)))


async def test_a_notice_arrives_with_the_link_and_without_the_body(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    message = await write(api, firm, conversation, SECRET_WORDS)
    outbox = EmailOutbox(ctx, SmtpSender(mailbox.url))
    await outbox.work_once()
    assert mailbox.received == []  # not before the delay
    await after_the_delay(ctx, clock, outbox)
    (email,) = mailbox.received
    assert email["To"] == "dana@example.com"
    assert "Hale & Marsh LLP" in email["Subject"] and "Whitfield estate" in email["Subject"]
    assert email.is_multipart()
    assert {p.get_content_type() for p in email.walk()} >= {"text/plain", "text/html"}
    body = text_of(email)
    assert SECRET_WORDS not in body
    links = await reply_tokens(ctx, message["id"])
    dana_id = conversation["participants"][0]["contact_id"]
    assert f"/r/{links[dana_id]}" in body


async def test_opening_the_link_before_the_delay_suppresses_the_notice(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    message = await write(api, firm, conversation, "Please review")
    token = next(iter((await reply_tokens(ctx, message["id"])).values()))
    await api.get(f"/r/{token}", headers=BROWSER)
    await finish_recording_openings(ctx)  # long before the delay ends
    await after_the_delay(ctx, clock, EmailOutbox(ctx, SmtpSender(mailbox.url)))
    assert mailbox.received == []
    assert await statuses(ctx) == ["skipped"]


async def test_three_messages_within_the_delay_make_one_email(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    for body in ("One", "Two", "Three"):
        await write(api, firm, conversation, body)
        clock.advance(seconds=60)
    await after_the_delay(ctx, clock, EmailOutbox(ctx, SmtpSender(mailbox.url)))
    (email,) = mailbox.received
    assert "3 new messages" in email["Subject"]


async def test_a_message_after_the_notice_went_gets_a_notice_of_its_own(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    outbox = EmailOutbox(ctx, SmtpSender(mailbox.url))
    await write(api, firm, conversation, "One")
    await after_the_delay(ctx, clock, outbox)
    await write(api, firm, conversation, "Two")
    await after_the_delay(ctx, clock, outbox)
    assert [e["Subject"].endswith("Whitfield estate") for e in mailbox.received] == [True, True]


async def test_the_firm_can_choose_to_include_the_body(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(update(Firm).values(email_notice_includes_body=True))
    await write(api, firm, conversation, SECRET_WORDS)
    await after_the_delay(ctx, clock, EmailOutbox(ctx, SmtpSender(mailbox.url)))
    assert SECRET_WORDS in text_of(mailbox.received[0])


async def test_without_smtp_notices_are_captured_not_lost(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    conversation: dict[str, Any],
) -> None:
    await write(api, firm, conversation, "Hello")
    await after_the_delay(ctx, clock, EmailOutbox(ctx, None))
    assert await statuses(ctx) == ["captured"]


async def test_smtp_down_then_back_sends_the_notice_once(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    conversation: dict[str, Any],
) -> None:
    await write(api, firm, conversation, "Hello")
    with smtp_server() as box:
        down_url = box.url
    outbox = EmailOutbox(ctx, SmtpSender(down_url))
    await after_the_delay(ctx, clock, outbox)
    assert await statuses(ctx) == ["waiting"]
    with smtp_server() as mailbox:
        outbox.sender = SmtpSender(mailbox.url)
        clock.advance(hours=1)
        await outbox.work_once()
        await outbox.work_once()
    assert len(mailbox.received) == 1
    assert await statuses(ctx) == ["sent"]


async def test_a_notice_interrupted_mid_send_is_not_sent_again(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    clock: TestClock,
    mailbox: Mailbox,
    conversation: dict[str, Any],
) -> None:
    await write(api, firm, conversation, "Hello")
    async with ctx.db.transaction() as session:
        # As a worker leaves it when it dies inside the SMTP conversation.
        await session.execute(
            update(EmailNotice).values(
                claimed_by="dead-worker", claimed_until=clock(), sending_started_at=clock()
            )
        )
    await after_the_delay(ctx, clock, EmailOutbox(ctx, SmtpSender(mailbox.url)))
    assert mailbox.received == []
    async with ctx.db.sessions() as session:
        notice = await session.scalar(select(EmailNotice))
    assert notice is not None and notice.status == "failed"
    assert "not sent again" in (notice.reason or "")
