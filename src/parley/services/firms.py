"""Setting up a firm and its first staff member (the `parley firm create` command)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import ApiToken, Firm, FirmSmsNumber, StaffUser
from parley.domain.errors import Conflict, InvalidInput
from parley.domain.phone_numbers import parse_sender_number
from parley.services.context import FirmScope, ServiceContext
from parley.services.staff_sessions import hash_password


@dataclass(frozen=True)
class CreatedFirm:
    firm_id: uuid.UUID
    staff_id: uuid.UUID
    api_token: str


def hash_api_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough to make the stored
    # value useless to a thief; no slow hash is needed.
    return hashlib.sha256(token.encode()).hexdigest()


async def create_firm(
    ctx: ServiceContext,
    *,
    name: str,
    sms_numbers: list[str],
    staff_email: str,
    staff_name: str | None = None,
    staff_password: str | None = None,
    email_from: str | None = None,
) -> CreatedFirm:
    name = name.strip()
    if not name:
        raise InvalidInput("A firm needs a name.", field="name")
    if not sms_numbers:
        raise InvalidInput("A firm needs at least one SMS sender number.", field="sms_number")
    numbers = [parse_sender_number(raw, ctx.settings.default_phone_region) for raw in sms_numbers]
    email = staff_email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{staff_email!r} is not an email address.", field="staff_email")
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        await _refuse_taken(session, numbers, email)
        firm = Firm(name=name, email_from=email_from, created_at=now)
        session.add(firm)
        await session.flush()
        session.add_all(FirmSmsNumber(firm_id=firm.id, number=number) for number in numbers)
        staff = StaffUser(
            firm_id=firm.id,
            name=staff_name or email.split("@")[0],
            email=email,
            password_hash=hash_password(staff_password) if staff_password else None,
            created_at=now,
        )
        session.add(staff)
        await session.flush()
        token = await issue_api_token(session, FirmScope(firm.id, staff.id), ctx)
        return CreatedFirm(firm_id=firm.id, staff_id=staff.id, api_token=token)


async def issue_api_token(session: AsyncSession, scope: FirmScope, ctx: ServiceContext) -> str:
    token = "pk_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(staff_id=scope.staff_id, token_hash=hash_api_token(token), created_at=ctx.clock())
    )
    return token


async def _refuse_taken(session: AsyncSession, numbers: list[str], email: str) -> None:
    taken = await session.scalar(
        select(FirmSmsNumber.number).where(FirmSmsNumber.number.in_(numbers)).limit(1)
    )
    if taken:
        raise Conflict(f"The SMS number {taken} already belongs to a firm.")
    if await session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise Conflict(f"A staff member with the email {email} already exists.")


async def authenticate_api_token(ctx: ServiceContext, token: str) -> FirmScope | None:
    async with ctx.db.sessions() as session:
        row = (
            await session.execute(
                select(StaffUser.firm_id, StaffUser.id)
                .join(ApiToken, ApiToken.staff_id == StaffUser.id)
                .where(ApiToken.token_hash == hash_api_token(token))
            )
        ).first()
    return FirmScope(firm_id=row[0], staff_id=row[1]) if row else None
