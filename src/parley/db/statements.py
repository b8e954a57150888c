"""Core statements run at the least cost each database allows.

On PostgreSQL a statement runs on asyncpg's own connection, compiled from its Core
definition once: on the busiest paths SQLAlchemy's execution layers (building the cache
key, the greenlet, the execution context) cost more than the queries themselves, about
190 µs of CPU per statement against asyncpg's 50 (bench/README.md). The column types'
own conversions (JSON, aware UTC times) still apply, so a statement gives the same rows
on both paths. SQLite, in-process, runs the same statement through SQLAlchemy. A use
case written against `Statements` reads the same on both databases.

Only statements built once (module constants) belong here: each is compiled on first
use and kept for the life of the process. Every parameter must be passed: a column
left to a Python-side default, or missing from the call, is an error, never NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.selectable import ReturnsRows

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
    """On asyncpg's own connection, in whatever transaction the caller started on it."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def row(self, statement: Executable, params: Params) -> Sequence[Any] | None:
        compiled = _compiled(statement)
        row = await self._connection.fetchrow(compiled.sql, *compiled.arguments(params))
        return None if row is None else compiled.read(row)

    async def rows(self, statement: Executable, params: Params) -> Sequence[Sequence[Any]]:
        compiled = _compiled(statement)
        rows = await self._connection.fetch(compiled.sql, *compiled.arguments(params))
        return [compiled.read(row) for row in rows]

    async def run(self, statement: Executable, params: Params) -> None:
        compiled = _compiled(statement)
        await self._connection.execute(compiled.sql, *compiled.arguments(params))


Conversion = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    statement: Executable  # held, so that its id (the cache key) is never reused
    sql: str
    names: tuple[str, ...]  # of the positional parameters $1, $2, …
    fixed: dict[str, Any]  # values the definition fixes itself, such as a LIMIT
    binders: tuple[Conversion, ...]  # each parameter's type conversion, as SQLAlchemy's
    # (position, conversion) of the result columns that have one: most have none, and
    # a row's other values are kept as asyncpg gave them.
    readers: tuple[tuple[int, Callable[[Any], Any]], ...]

    def arguments(self, params: Params) -> list[Any]:
        values = (params[n] if n in params else self.fixed[n] for n in self.names)
        return [v if b is None else b(v) for b, v in zip(self.binders, values, strict=True)]

    def read(self, row: Sequence[Any]) -> Sequence[Any]:
        if not self.readers:
            return row
        values = list(row)
        for position, reader in self.readers:
            values[position] = reader(values[position])
        return values


_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
_COMPILED: dict[int, _Compiled] = {}


def _compiled(statement: Executable) -> _Compiled:
    found = _COMPILED.get(id(statement))
    if found is None:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        binds = compiled.binds
        fixed = {n: b.effective_value for n, b in binds.items() if not b.required}
        binders = tuple(binds[n].type.bind_processor(_DIALECT) for n in names)
        columns: list[ColumnElement[Any]] = (
            list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        )
        conversions = (column.type.result_processor(_DIALECT, None) for column in columns)
        readers = tuple((i, r) for i, r in enumerate(conversions) if r is not None)
        found = _Compiled(statement, str(compiled), names, fixed, binders, readers)
        _COMPILED[id(statement)] = found
    return found
