"""Core statements run at the least cost each database allows.

On PostgreSQL a statement runs on asyncpg's own connection, compiled from its Core
definition once: for the reply page, SQLAlchemy's execution layers (building the cache
key, the greenlet, result processing) cost more than the queries themselves
(bench/README.md). SQLite, in-process, runs the same statement through SQLAlchemy. A use
case written against `Statements` reads the same on both databases.

Only statements built once (module constants) belong here: each is compiled on first
use and kept for the life of the process. SQLAlchemy's parameter handling is skipped:
every parameter must be passed (a missing one is an error, not a default or NULL), and
as asyncpg takes it (a JSON value serialized, say), so the ones at home here are ids,
text, numbers and aware times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Params = Mapping[str, Any]


class Statements(Protocol):
    async def row(self, statement: Executable, params: Params) -> Sequence[Any] | None:
        """The one row the statement yields, or None."""
        ...

    async def rows(self, statement: Executable, params: Params) -> Sequence[Sequence[Any]]: ...

    async def run(self, statement: Executable, params: Params) -> None: ...


class CoreStatements:
    """Through SQLAlchemy, on a connection (and in any transaction) the caller holds."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def row(self, statement: Executable, params: Params) -> Sequence[Any] | None:
        return (await self._connection.execute(statement, params)).one_or_none()

    async def rows(self, statement: Executable, params: Params) -> Sequence[Sequence[Any]]:
        return (await self._connection.execute(statement, params)).all()

    async def run(self, statement: Executable, params: Params) -> None:
        await self._connection.execute(statement, params)


class DriverStatements:
    """On asyncpg's own connection: outside a transaction, each statement commits alone."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def row(self, statement: Executable, params: Params) -> Sequence[Any] | None:
        compiled = _compiled(statement)
        row: Sequence[Any] | None = await self._connection.fetchrow(
            compiled.sql, *compiled.arguments(params)
        )
        return row

    async def rows(self, statement: Executable, params: Params) -> Sequence[Sequence[Any]]:
        compiled = _compiled(statement)
        rows: Sequence[Sequence[Any]] = await self._connection.fetch(
            compiled.sql, *compiled.arguments(params)
        )
        return rows

    async def run(self, statement: Executable, params: Params) -> None:
        compiled = _compiled(statement)
        await self._connection.execute(compiled.sql, *compiled.arguments(params))


@dataclass(frozen=True)
class _Compiled:
    statement: Executable  # held, so that its id (the cache key) is never reused
    sql: str
    names: tuple[str, ...]  # of the positional parameters $1, $2, …
    fixed: dict[str, Any]  # values the definition fixes itself, such as a LIMIT

    def arguments(self, params: Params) -> list[Any]:
        return [params[name] if name in params else self.fixed[name] for name in self.names]


_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
_COMPILED: dict[int, _Compiled] = {}


def _compiled(statement: Executable) -> _Compiled:
    found = _COMPILED.get(id(statement))
    if found is None:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        fixed = {n: b.effective_value for n, b in compiled.binds.items() if not b.required}
        found = _Compiled(statement, str(compiled), names, fixed)
        _COMPILED[id(statement)] = found
    return found
