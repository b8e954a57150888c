"""The command line, run as a real process, as an operator would."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


def test_serve_logs_each_request_with_its_time_and_no_reply_token(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    assert run(["db", "upgrade"], database_url).returncode == 0
    with socket.socket() as probe:  # a free port, given back for the server to take
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"PARLEY_DATABASE_URL": database_url}
    server = subprocess.Popen(
        [*PARLEY, "serve", "--port", str(port), "--no-dispatcher"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "serve never answered"
                time.sleep(0.1)
        httpx.get(f"{base}/r/Abc_12-xyZ")
    finally:
        server.terminate()
        _, logged = server.communicate(timeout=30)
    moment = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.search(
        rf"^{moment} INFO 127\.0\.0\.1:\d+ - \"GET /healthz HTTP/1\.1\" 200$", logged, re.M
    )
    assert re.search(rf"^{moment} INFO .*\"GET /r/\[redacted\] HTTP/1\.1\" 404$", logged, re.M)
    assert "Abc_12-xyZ" not in logged
