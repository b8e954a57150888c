"""A PostgreSQL server of the test's own, so that it can be restarted mid-test.

The shared server at 127.0.0.1:5432 serves every other test at once; restarting it
would break them. This one is made with initdb in a temporary folder, on a free port,
from the same PostgreSQL installation, and is gone when the test ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import postgres_required
from tests.support.servers import reserve_port


def _bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return shutil.which(name) or next(iter(candidates), None)


@dataclass(frozen=True)
class RestartableServer:
    folder: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        data, log = str(self.folder / "data"), str(self.folder / "log")
        pg_ctl = _bin("pg_ctl") or "pg_ctl"
        command = [*self.as_postgres, pg_ctl, "-D", data, "-o", options, "-l", log, "-w", *args]
        subprocess.run(
            command,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def crash_and_restart(self) -> None:
        """As after a power cut: no clean shutdown, recovery from the WAL on start."""
        self.pg_ctl("-m", "immediate", "restart")


@contextmanager
def restartable_postgres() -> Iterator[RestartableServer]:
    initdb = _bin("initdb")
    if initdb is None:
        message = "PostgreSQL's initdb is not installed"
        if postgres_required():
            pytest.fail(f"{message}; under CI=true the restart test must run.")
        pytest.skip(f"{message}; the PostgreSQL restart test is skipped.")
    folder = Path(tempfile.mkdtemp(prefix="parley-pg-"))
    # PostgreSQL refuses to run as root; as root, run it as the postgres user.
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, user="postgres")
    with reserve_port() as sock:
        port = sock.getsockname()[1]
    server = RestartableServer(folder, port, as_postgres)
    try:
        options = ["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]
        subprocess.run(
            [*as_postgres, initdb, "-D", str(folder / "data"), *options],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        server.pg_ctl("start")
        yield server
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            server.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
