"""The demo firm: matters, clients (one in two conversations) and a little history."""

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
DEMO_STAFF_PASSWORD = "parley-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    firm_name: str
    staff_email: str
    staff_password: str
    api_token: str


async def seed_demo(ctx: ServiceContext) -> DemoLogin:
    """Create the demo firm once; on later runs hand out a fresh API token for it."""
    async with ctx.db.transaction() as session:
        staff = await session.scalar(
            select(StaffUser)
            .join(FirmSmsNumber, FirmSmsNumber.firm_id == StaffUser.firm_id)
            .where(FirmSmsNumber.number == DEMO_SMS_NUMBER, StaffUser.email == DEMO_STAFF_EMAIL)
        )
        if staff is not None:
            token = await issue_api_token(session, FirmScope(staff.firm_id, staff.id), ctx)
            return DemoLogin(DEMO_FIRM, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, token)
    created = await create_firm(
        ctx,
        name=DEMO_FIRM,
        sms_numbers=[DEMO_SMS_NUMBER],
        staff_email=DEMO_STAFF_EMAIL,
        staff_name="Avery Hale",
        staff_password=DEMO_STAFF_PASSWORD,
        email_from="messages@halemarsh.example",
    )
    scope = FirmScope(created.firm_id, created.staff_id)
    dana = await contacts.create_contact(
        ctx, scope, name="Dana Whitfield", email="dana@example.com", mobile_phone="+12025550142"
    )
    lee = await contacts.create_contact(
        ctx, scope, name="Lee Whitfield", email="lee@example.com", mobile_phone="+12025550143"
    )
    sam = await contacts.create_contact(ctx, scope, name="Sam Ortiz", mobile_phone="+12025550144")
    pat = await contacts.create_contact(ctx, scope, name="Pat Ortiz", email="pat@example.com")
    estate = await matters.create_matter(
        ctx, scope, title="Whitfield estate", reference="HM-2026-014"
    )
    house = await matters.create_matter(
        ctx, scope, title="Whitfield house sale", reference="HM-2026-021"
    )
    lawsuit = await matters.create_matter(
        ctx, scope, title="Ortiz v. Landmark Realty", reference="HM-2025-188"
    )
    sale = await conversations.start_conversation(
        ctx, scope, matter_id=house.id, subject="Sale of 14 Elm Street", participant_ids=[dana.id]
    )
    await messages.post_staff_message(
        ctx,
        scope,
        sale.id,
        body="Dana, the buyer's survey is booked for Thursday at 10am. Could you leave a key "
        "with the agent?",
        send_as_sms=True,
    )
    deposition = await conversations.start_conversation(
        ctx,
        scope,
        matter_id=lawsuit.id,
        subject="Deposition preparation",
        participant_ids=[sam.id, pat.id],
    )
    await messages.post_staff_message(
        ctx,
        scope,
        deposition.id,
        body="Sam and Pat, we have blocked two hours next Monday to prepare for the "
        "deposition. Please bring the lease and any emails with the landlord.",
        send_as_sms=False,
    )
    probate = await conversations.start_conversation(
        ctx,
        scope,
        matter_id=estate.id,
        subject="Probate documents",
        participant_ids=[dana.id, lee.id],
    )
    await messages.post_staff_message(
        ctx,
        scope,
        probate.id,
        body="Welcome, Dana and Lee. We will keep you posted here on the probate filing. "
        "You can reply from the link in our texts and emails.",
        send_as_sms=False,
    )
    return DemoLogin(DEMO_FIRM, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, created.api_token)
