"""The demo firm: a matter, clients and a conversation to click through."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from parley.db.models import FirmSmsNumber, StaffUser
from parley.services import contacts, conversations, matters, messages
from parley.services.context import FirmScope, ServiceContext
from parley.services.firms import create_firm, issue_api_token

DEMO_FIRM = "Hale & Marsh LLP"
DEMO_SMS_NUMBER = "+12025550100"
DEMO_STAFF_EMAIL = "avery@halemarsh.example"


@dataclass(frozen=True)
class DemoLogin:
    firm_name: str
    staff_email: str
    api_token: str


async def seed_demo(ctx: ServiceContext) -> DemoLogin:
    """Create the demo firm once; on later runs hand out a fresh token for it."""
    async with ctx.db.transaction() as session:
        staff = await session.scalar(
            select(StaffUser)
            .join(FirmSmsNumber, FirmSmsNumber.firm_id == StaffUser.firm_id)
            .where(FirmSmsNumber.number == DEMO_SMS_NUMBER, StaffUser.email == DEMO_STAFF_EMAIL)
        )
        if staff is not None:
            token = await issue_api_token(session, FirmScope(staff.firm_id, staff.id), ctx)
            return DemoLogin(DEMO_FIRM, DEMO_STAFF_EMAIL, token)
    created = await create_firm(
        ctx,
        name=DEMO_FIRM,
        sms_numbers=[DEMO_SMS_NUMBER],
        staff_email=DEMO_STAFF_EMAIL,
        staff_name="Avery Hale",
        email_from="messages@halemarsh.example",
    )
    scope = FirmScope(created.firm_id, created.staff_id)
    dana = await contacts.create_contact(
        ctx, scope, name="Dana Whitfield", email="dana@example.com", mobile_phone="+12025550142"
    )
    lee = await contacts.create_contact(
        ctx, scope, name="Lee Whitfield", email="lee@example.com", mobile_phone="+12025550143"
    )
    estate = await matters.create_matter(
        ctx, scope, title="Whitfield estate", reference="HM-2026-014"
    )
    talk = await conversations.start_conversation(
        ctx,
        scope,
        matter_id=estate.id,
        subject="Probate documents",
        participant_ids=[dana.id, lee.id],
    )
    await messages.post_staff_message(
        ctx,
        scope,
        talk.id,
        body="Welcome, Dana and Lee. We will keep you posted here on the probate filing.",
        send_as_sms=False,
    )
    return DemoLogin(DEMO_FIRM, DEMO_STAFF_EMAIL, created.api_token)
