"""Throwaway databases for the tests: a migrated SQLite file and a PostgreSQL database.

PostgreSQL runs are required under CI=true; elsewhere they skip, saying why, when no
server answers at PARLEY_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from parley.db import migrate
from parley.db.models import Base

ADMIN_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(f"{ADMIN_URL}/postgres", timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def postgres_database(*, migrated: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated unless told not to), dropped afterwards."""
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        message = f"PostgreSQL is not reachable at {ADMIN_URL} ({error})"
        if postgres_required():
            pytest.fail(f"{message}; under CI=true the PostgreSQL tests must run.")
        pytest.skip(f"{message}; PostgreSQL tests skipped (set CI=true to require them).")
    url = f"{ADMIN_URL}/{name}"
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def sqlite_template(folder: Path) -> Iterator[Path]:
    path = folder / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    yield path


def fresh_sqlite(template: Path, folder: Path) -> str:
    path = folder / f"parley-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


async def empty_postgres(url: str) -> None:
    """Remove every row, keeping the schema (much faster than migrating again)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"TRUNCATE {tables} CASCADE")
    finally:
        await connection.close()
