"""The demo's mailbox: email notices kept when no SMTP server is configured."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from parley.db.models import EmailNotice
from parley.providers.email import render
from parley.services.email_notices import compose_notice
from parley.web.deps import Ctx
from parley.web.pages.templating import TEMPLATES

router = APIRouter(include_in_schema=False)


@router.get("/dev/mailbox")
async def mailbox(request: Request, ctx: Ctx) -> HTMLResponse:
    async with ctx.db.sessions() as session:
        notices = list(
            await session.scalars(
                select(EmailNotice)
                .where(EmailNotice.status == "captured")
                .order_by(EmailNotice.sent_at.desc())
                .limit(100)
            )
        )
        emails = []
        for notice in notices:
            email, _ = await compose_notice(session, ctx.settings, notice)
            plain = render(email).get_body(preferencelist=("plain",))
            emails.append((notice, email, plain.get_content() if plain else ""))
    return TEMPLATES.TemplateResponse(request, "dev/mailbox.html", {"emails": emails})
