"""One Core statement, run on each database's fastest path (db/statements.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from parley.db.models import Firm
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin

# The LIMIT is a value the definition fixes itself; the name is the caller's.
FIRMS_NAMED = select(Firm.name).where(Firm.name == bindparam("name")).limit(1)


async def test_a_statement_reads_the_same_rows_on_either_database(
    ctx: ServiceContext, firm: StaffLogin, other_firm: StaffLogin
) -> None:
    async with ctx.db.statements() as statements:
        rows = await statements.rows(FIRMS_NAMED, {"name": "Hale & Marsh LLP"})
        missing = await statements.row(FIRMS_NAMED, {"name": "No Such Firm"})
    assert [tuple(r) for r in rows] == [("Hale & Marsh LLP",)]
    assert missing is None


async def test_a_parameter_left_out_is_an_error_not_null(ctx: ServiceContext) -> None:
    with pytest.raises(Exception, match="name"):
        async with ctx.db.statements() as statements:
            await statements.row(FIRMS_NAMED, {})
