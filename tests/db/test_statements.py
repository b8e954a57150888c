"""One Core statement, run on each database's fastest path (db/statements.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, select, type_coerce
from sqlalchemy.exc import StatementError

from parley.db.engine import Database, is_database_unavailable
from parley.db.models import Firm
from parley.db.types import UTCDateTime
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin

# The LIMIT is a value the definition fixes itself; the name is the caller's.
FIRMS_NAMED = select(Firm.name).where(Firm.name == bindparam("name")).limit(1)
A_MOMENT = select(type_coerce(bindparam("moment", type_=UTCDateTime()), UTCDateTime()))


async def test_a_statement_reads_the_same_rows_on_either_database(
    ctx: ServiceContext, firm: StaffLogin, other_firm: StaffLogin
) -> None:
    async with ctx.db.statements() as statements:
        rows = await statements.rows(FIRMS_NAMED, {"name": "Hale & Marsh LLP"})
        missing = await statements.row(FIRMS_NAMED, {"name": "No Such Firm"})
    assert [tuple(r) for r in rows] == [("Hale & Marsh LLP",)]
    assert missing is None


async def test_a_moment_reads_back_as_the_same_time_in_utc_on_either_path(
    ctx: ServiceContext,
) -> None:
    moment = datetime(2026, 11, 5, 16, 30, 15, 250_000, tzinfo=timezone(timedelta(hours=2)))
    async with ctx.db.statements() as statements:
        row = await statements.row(A_MOMENT, {"moment": moment})
    async with ctx.db.transaction() as session:
        through_the_orm = await session.scalar(A_MOMENT, {"moment": moment})
    assert row is not None
    for read in (row[0], through_the_orm):
        assert read == moment
        assert read.tzinfo is UTC
        assert read.isoformat() == "2026-11-05T14:30:15.250000+00:00"


async def test_a_parameter_left_out_is_an_error_not_null(ctx: ServiceContext) -> None:
    # SQLAlchemy says so on SQLite; the compiled statement on PostgreSQL names the key.
    with pytest.raises((StatementError, KeyError), match="name"):
        async with ctx.db.statements() as statements:
            await statements.row(FIRMS_NAMED, {})


async def test_a_transaction_whose_connection_is_lost_says_the_database_is_away(
    _postgres_url: str,
) -> None:
    # PostgreSQL only: SQLite runs in-process, with no connection to lose.
    db = Database(_postgres_url)
    try:
        with pytest.raises(Exception) as lost:
            async with db.statements_in_transaction() as statements:
                backend = await statements.row(select(func.pg_backend_pid()), {})
                assert backend is not None
                async with db.statements() as other:
                    await other.row(select(func.pg_terminate_backend(backend[0])), {})
                await statements.row(select(func.now()), {})
    finally:
        await db.dispose()
    assert is_database_unavailable(lost.value), repr(lost.value)
