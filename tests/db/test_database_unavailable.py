"""Which errors mean "the database is away" (503, try again) rather than a bug (500)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from parley.db.engine import is_database_unavailable


def wrapped(driver_error: Exception) -> DBAPIError:
    """As SQLAlchemy raises a driver's error: chained from it."""
    try:
        raise DBAPIError("SELECT 1", {}, driver_error) from driver_error
    except DBAPIError as error:
        return error


@pytest.mark.parametrize(
    ("error", "away"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (wrapped(asyncpg.CannotConnectNowError("the database system is starting up")), True),
        (wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")), True),
        (wrapped(asyncpg.ConnectionDoesNotExistError("connection was closed")), True),
        (OperationalError("SELECT 1", {}, Exception("database is locked")), True),
        # Unwrapped: the status-callback path runs on asyncpg's own connection.
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (PoolTimeout("QueuePool limit of size 40 overflow 0 reached"), True),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), False),
        (wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected")), False),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_connection_failures_count_as_the_database_being_away(
    error: Exception, away: bool
) -> None:
    assert is_database_unavailable(error) is away
