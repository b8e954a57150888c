"""Migrations: applied to an empty database, re-applied harmlessly, matching the models."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from parley.db import migrate
from parley.db.models import Base
from parley.settings import to_async_url
from tests.support.databases import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with postgres_database(migrated=False) as url:
            yield url


def _inspect(url: str, look: object) -> object:
    """Run a synchronous look at the schema through the async driver."""

    async def run() -> object:
        engine = create_async_engine(to_async_url(url))
        async with engine.connect() as connection:
            result = await connection.run_sync(look)  # type: ignore[arg-type]
        await engine.dispose()
        return result

    return asyncio.run(run())


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_on_an_empty_database_and_again_on_an_up_to_date_one(
    empty_database: str,
) -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config(empty_database)).get_current_head()
    migrate.upgrade(empty_database)
    assert _inspect(empty_database, _revision) == head
    assert _inspect(empty_database, _tables) == set(Base.metadata.tables) | {"alembic_version"}
    migrate.upgrade(empty_database)
    assert _inspect(empty_database, _revision) == head


def test_the_alembic_head_matches_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    differences = _inspect(empty_database, _differences)
    assert differences == [], f"a model changed without a migration: {differences}"
