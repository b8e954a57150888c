"""Staff sign-in for the web app: argon2 passwords, server-side sessions, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from parley.db.models import Firm, StaffSession, StaffUser
from parley.domain.errors import InvalidInput
from parley.domain.storable_text import storable
from parley.services.context import FirmScope, ServiceContext

SESSION_HOURS = 12
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class SignedIn:
    scope: FirmScope
    staff_name: str
    firm_name: str
    csrf_token: str


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"A password needs at least {MIN_PASSWORD} characters.", field="password"
        )
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret_key: str, session_token: str) -> str:
    return hmac.new(
        secret_key.encode(), b"staff-csrf:" + session_token.encode(), hashlib.sha256
    ).hexdigest()


async def sign_in(ctx: ServiceContext, email: str, password: str) -> str | None:
    """A new session token, or None when the email or password is wrong."""
    async with ctx.db.transaction() as session:
        staff = await session.scalar(
            select(StaffUser).where(StaffUser.email == storable(email.strip().lower()))
        )
        stored = staff.password_hash if staff and staff.password_hash else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if staff is None or staff.password_hash is None:
            return None
        now = ctx.clock()
        token = secrets.token_urlsafe(32)
        session.add(
            StaffSession(
                staff_id=staff.id,
                token_hash=_token_hash(token),
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
        return token


async def signed_in(ctx: ServiceContext, token: str) -> SignedIn | None:
    async with ctx.db.sessions() as session:
        row = (
            await session.execute(
                select(StaffUser, Firm.name)
                .join(StaffSession, StaffSession.staff_id == StaffUser.id)
                .join(Firm, Firm.id == StaffUser.firm_id)
                .where(
                    StaffSession.token_hash == _token_hash(token),
                    StaffSession.expires_at > ctx.clock(),
                )
            )
        ).first()
    if row is None:
        return None
    staff, firm_name = row
    return SignedIn(
        scope=FirmScope(staff.firm_id, staff.id),
        staff_name=staff.name,
        firm_name=firm_name,
        csrf_token=csrf_token_for(ctx.settings.secret_key, token),
    )


async def sign_out(ctx: ServiceContext, token: str) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(
            delete(StaffSession).where(StaffSession.token_hash == _token_hash(token))
        )


async def set_password(ctx: ServiceContext, staff_id: uuid.UUID, password: str) -> None:
    async with ctx.db.transaction() as session:
        staff = await session.get_one(StaffUser, staff_id)
        staff.password_hash = hash_password(password)
