"""Contacts: the firm's clients, co-clients and third parties."""

from __future__ import annotations

import uuid

from parley.db.models import Contact
from parley.db.opt_outs import is_opted_out
from parley.db.statements import CoreStatements
from parley.db.tenancy import get_for_firm
from parley.domain.errors import InvalidInput
from parley.domain.phone_numbers import parse_mobile_number
from parley.services.context import FirmScope, ServiceContext
from parley.services.views import ContactView


async def create_contact(
    ctx: ServiceContext,
    scope: FirmScope,
    *,
    name: str,
    email: str | None = None,
    mobile_phone: str | None = None,
) -> ContactView:
    name = name.strip()
    if not name:
        raise InvalidInput("A contact needs a name.", field="name")
    mobile = (
        parse_mobile_number(mobile_phone, ctx.settings.default_phone_region)
        if mobile_phone and mobile_phone.strip()
        else None
    )
    async with ctx.db.transaction() as session:
        statements = CoreStatements(await session.connection())
        opted_out = mobile is not None and await is_opted_out(statements, scope.firm_id, mobile)
        contact = Contact(
            firm_id=scope.firm_id,
            name=name,
            email=email.strip() if email and email.strip() else None,
            mobile_phone=mobile,
            created_at=ctx.clock(),
        )
        session.add(contact)
    return ContactView.of(contact, opted_out=opted_out)


async def get_contact(ctx: ServiceContext, scope: FirmScope, contact_id: uuid.UUID) -> ContactView:
    async with ctx.db.sessions() as session:
        contact = await get_for_firm(session, Contact, contact_id, scope.firm_id, label="contact")
        mobile = contact.mobile_phone
        statements = CoreStatements(await session.connection())
        opted_out = mobile is not None and await is_opted_out(statements, scope.firm_id, mobile)
    return ContactView.of(contact, opted_out=opted_out)
