"""The command line, run as a real process, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import postgres_database

PARLEY = [sys.executable, "-m", "parley"]


def run(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PARLEY_DATABASE_URL": database_url}
    return subprocess.run(PARLEY + args, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        with postgres_database(migrated=False) as url:
            yield url


def test_db_upgrade_then_firm_create_prints_ids_and_a_working_token(empty_database: str) -> None:
    assert run(["db", "upgrade"], empty_database).returncode == 0
    again = run(["db", "upgrade"], empty_database)
    assert again.returncode == 0, again.stderr
    created = run(
        [
            "firm",
            "create",
            "--name",
            "Hale & Marsh LLP",
            "--sms-number",
            "+1 202 555 0100",
            "--staff-email",
            "avery@halemarsh.example",
            "--staff-name",
            "Avery Hale",
        ],
        empty_database,
    )
    assert created.returncode == 0, created.stderr
    printed = json.loads(created.stdout)
    assert set(printed) >= {"firm_id", "staff_id", "api_token", "staff_password"}
    assert printed["api_token"].startswith("pk_")
    assert len(printed["staff_password"]) >= 10


def test_firm_create_refuses_a_number_already_taken(empty_database: str) -> None:
    run(["db", "upgrade"], empty_database)
    args = ["firm", "create", "--name", "A", "--sms-number", "+12025550100", "--staff-email"]
    assert run([*args, "a@a.example"], empty_database).returncode == 0
    second = run([*args, "b@b.example"], empty_database)
    assert second.returncode == 2
    assert "already belongs to a firm" in second.stderr
