"""Matters: the firm's cases and files."""

from __future__ import annotations

import uuid

from parley.db.models import Matter
from parley.db.tenancy import get_for_firm
from parley.domain.errors import InvalidInput
from parley.services.context import FirmScope, ServiceContext
from parley.services.views import MatterView


async def create_matter(
    ctx: ServiceContext, scope: FirmScope, *, title: str, reference: str | None = None
) -> MatterView:
    title = title.strip()
    if not title:
        raise InvalidInput("A matter needs a title.", field="title")
    async with ctx.db.transaction() as session:
        matter = Matter(
            firm_id=scope.firm_id,
            title=title,
            reference=reference.strip() if reference and reference.strip() else None,
            created_at=ctx.clock(),
        )
        session.add(matter)
    return MatterView.of(matter)


async def get_matter(ctx: ServiceContext, scope: FirmScope, matter_id: uuid.UUID) -> MatterView:
    async with ctx.db.sessions() as session:
        matter = await get_for_firm(session, Matter, matter_id, scope.firm_id, label="matter")
    return MatterView.of(matter)
