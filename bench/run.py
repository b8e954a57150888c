"""`make bench`: Parley's hot paths under load, beside a bare baseline, on PostgreSQL.

One run creates a throwaway database, loads the data sets, starts each server as its
own process, drives it with wrk from another process over loopback for a bounded
time, and prints one table. See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench import dataset
from parley.db.engine import Database
from parley.domain.reply_routing import FileInConversation, decide_reply_route
from parley.providers.twilio.signature import sign
from parley.services.context import ServiceContext
from parley.services.inbound import routing_facts
from parley.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PUBLIC_URL = "https://parley.bench.example"
AUTH_TOKEN = "bench-auth-token"
SECRET_KEY = "bench-secret-key"
PHONE_BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)
ACCOUNT_SID = "AC" + "b" * 32
FIRM_NUMBER = "+14152220100"
PORTS = {"parley": 8710, "baseline": 8711, "sink": 8712}
# Texts queued to the two rate-limited numbers: one segment each to the first, two to
# the second.
LIMITED_SHORT_TEXTS, LIMITED_LONG_TEXTS = 150, 30


@dataclass
class Row:
    path: str
    target: str
    figures: dict[str, float | str] = field(default_factory=dict)


def free_port_or_die(port: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"port {port} is taken; stop what listens there and run again")
    return port


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server(
    name: str, command: list[str], env: dict[str, str], logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    port = PORTS[name]
    free_port_or_die(port)
    with (logs / f"{name}-{time.monotonic_ns()}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"{name} did not start; see {log.name}")
                time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


PROFILES: Path | None = None  # --profile: py-spy flame graphs of each Parley server run


def parley_server(
    env: dict[str, str], logs: Path, dispatcher: bool = False
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    command = [str(BIN / "parley"), "serve", "--port", str(PORTS["parley"])]
    if not dispatcher:
        command.append("--no-dispatcher")
    return server("parley", command, env, logs)


@contextmanager
def profiled(pid: int, name: str, seconds: int) -> Iterator[None]:
    """A py-spy flame graph of `pid` while the block runs, when --profile asks for one."""
    if PROFILES is None:
        yield
        return
    PROFILES.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--nonblocking",
            "--format",
            "speedscope",
            "-o",
            str(PROFILES / f"{name}.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 30)


def baseline_server(
    env: dict[str, str], logs: Path
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    command = [str(BIN / "python"), "-m", "bench.baseline", str(PORTS["baseline"])]
    return server("baseline", command, env, logs)


SINK_COMMAND = [
    str(BIN / "uvicorn"),
    "bench.provider_sink:app",
    "--port",
    str(PORTS["sink"]),
    "--log-level",
    "warning",
]


def wrk(
    port: int, requests_file: Path, connections: int, seconds: float, *, backwards: bool = False
) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / "requests.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(requests_file),
            *(["backwards"] if backwards else []),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    figures["per_second"] = figures["requests"] / figures["seconds"]
    return figures


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> dict[int, float]:
    """CPU time so far of each PostgreSQL process on this machine (none when the
    database runs elsewhere): what the database spends shares the server's two cores."""
    used = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                used[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return used


# An fdatasync slower than this held every request in flight waiting with it.
DISK_STALL_MS = 50.0


@contextmanager
def disk_probe(directory: Path) -> Iterator[list[float]]:
    """Milliseconds of an 8 KB write and fdatasync, every 10 ms while the block runs.

    Each status callback and inbound text commits, so it waits for PostgreSQL's WAL to
    reach the disk; when the disk stalls, every request in flight waits with it,
    Parley's and the baseline's alike. This tells a run whose p99 is the disk's. It
    times the disk holding `directory`: PostgreSQL's too on a machine with one disk.
    """
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        path = directory / "disk-probe"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        block = b"\0" * 8192
        try:
            while not done.wait(0.01):
                started = time.perf_counter()
                os.pwrite(descriptor, block, 0)
                os.fdatasync(descriptor)
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(descriptor)
            path.unlink()

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        yield latencies
    finally:
        done.set()
        thread.join()


def idle_disk(directory: Path, seconds: float = 5.0) -> str:
    """The disk's syncs with nothing else running: like the CPU probe, which hour this was.

    A disk that stalls on its own stalls the runs' commits too (bench/README.md). After a
    sync, so that what the bench wrote before is not what is timed.
    """
    os.sync()
    with disk_probe(directory) as syncs:
        time.sleep(seconds)
    if not syncs:
        return "no reading"
    stalls = sum(1 for ms in syncs if ms > DISK_STALL_MS)
    return (
        f"p50 {percentile(syncs, 0.5):.1f}, p99 {percentile(syncs, 0.99):.1f}, "
        f"longest {max(syncs):.0f} ms, {stalls} over {DISK_STALL_MS:.0f} ms"
    )


def warmed_wrk(
    port: int, pid: int, requests_file: Path, connections: int, seconds: float, warmup: float
) -> dict[str, float]:
    """wrk after a warm-up under the same load, so that the figures are the steady state.

    The first requests of a server open its pooled connections and prepare its
    statements; both servers get the warm-up, from the other end of the requests.
    Also the server's CPU time per request: steadier between runs than throughput on a
    machine whose speed varies, and what a change to the server's own work moves; the
    database's CPU time per request, which it takes from the same two cores; and the
    disk's stalls during the measured run (disk_probe).
    """
    if warmup > 0:
        wrk(port, requests_file, connections, warmup, backwards=True)
    before, database_before = cpu_seconds(pid), database_cpu_seconds()
    with disk_probe(requests_file.parent) as disk:
        figures = wrk(port, requests_file, connections, seconds)
    requests = max(figures["requests"], 1)
    figures["cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / requests
    database = database_cpu_seconds()
    figures["db_cpu_ms"] = (
        sum(used - database_before.get(p, 0.0) for p, used in database.items()) * 1000 / requests
        if database
        else math.nan
    )
    # No samples (the probe could not write, and said why on stderr) is no reading, not
    # a quiet disk.
    figures["disk_stalls"] = sum(1 for ms in disk if ms > DISK_STALL_MS) if disk else math.nan
    figures["disk_longest_ms"] = max(disk) if disk else math.nan
    return figures


def signed_line(path: str, params: dict[str, str]) -> str:
    signature = sign(AUTH_TOKEN, PUBLIC_URL + path, params)
    headers = f"X-Twilio-Signature: {signature}|Content-Type: application/x-www-form-urlencoded"
    return f"POST\t{path}\t{headers}\t{urllib.parse.urlencode(params)}"


def status_callbacks_file(directory: Path, contacts: int) -> Path:
    """Each text reported sent, then delivered a little later, as Twilio does."""
    order = list(range(contacts))
    random.Random(7).shuffle(order)
    lines = []
    for n, i in enumerate(order):
        lines.append(status_line(i, "sent"))
        if n >= 500:
            lines.append(status_line(order[n - 500], "delivered"))
    target = directory / "status.txt"
    target.write_text("\n".join(lines) + "\n")
    return target


def status_line(i: int, status: str) -> str:
    delivery = dataset.row_id("delivery", i)
    params = {
        "MessageSid": dataset.provider_id_of(i),
        "SmsSid": dataset.provider_id_of(i),
        "AccountSid": ACCOUNT_SID,
        "From": FIRM_NUMBER,
        "To": dataset.mobile_of(i),
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    return signed_line(f"/webhooks/twilio/status?d={delivery}", params)


def inbound_file(directory: Path, contacts: int, label: str) -> Path:
    order = list(range(contacts))
    random.Random(11).shuffle(order)
    lines = []
    for i in order:
        params = {
            "MessageSid": "SM" + uuid.uuid5(uuid.NAMESPACE_URL, f"{label}{i}").hex,
            "AccountSid": ACCOUNT_SID,
            "From": dataset.mobile_of(i),
            "To": FIRM_NUMBER,
            "Body": "Thanks, Tuesday at 10 works for me. I'll bring the signed forms.",
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        lines.append(signed_line("/webhooks/twilio/inbound", params))
    target = directory / f"inbound-{label}.txt"
    target.write_text("\n".join(lines) + "\n")
    return target


def reply_pages_file(directory: Path, contacts: int) -> Path:
    order = list(range(contacts))
    random.Random(13).shuffle(order)
    # Clients come from many addresses, as behind a load balancer; one address would
    # meet the per-address guard against token guessing, which is not what is measured.
    # Each is a person's phone opening the link for the first time, which records when
    # it was opened: without a browser's User-Agent, a fetch is taken for a link preview.
    lines = []
    for i in order:
        address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        headers = f"X-Forwarded-For: {address}|User-Agent: {PHONE_BROWSER}"
        lines.append(f"GET\t/r/{dataset.reply_token(SECRET_KEY, i)}\t{headers}\t")
    target = directory / "reply.txt"
    target.write_text("\n".join(lines) + "\n")
    return target


def closest_beyond_a_second(times: list[float], allowed: int) -> float:
    """The shortest time in which one arrival more than a second's allowance came, in ms
    (times sorted): 1,000 or more means no second held too many, and by how much."""
    span = min(last - first for first, last in zip(times, times[allowed:], strict=False))
    return span * 1000


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any one-second window (times sorted)."""
    most, first = 0, 0
    for last, arrived in enumerate(times):
        while arrived - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def cpu_probe_seconds() -> float:
    """A fixed pure-Python loop: how fast this machine is just now, to compare runs."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Bench:
    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.options = options
        self.work = work
        self.admin_url = options.postgres
        self.database = f"parley_bench_{os.getpid()}"
        base = self.admin_url.rsplit("/", 1)[0]
        self.database_url = f"{base}/{self.database}"
        self.env = {
            **os.environ,
            "PARLEY_DATABASE_URL": self.database_url,
            "PARLEY_PUBLIC_URL": PUBLIC_URL,
            "PARLEY_SECRET_KEY": SECRET_KEY,
            "PARLEY_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PARLEY_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "PARLEY_SMS_PROVIDER": "twilio",
            "PARLEY_TWILIO_API_URL": f"http://127.0.0.1:{PORTS['sink']}",
            "BASELINE_DSN": self.database_url,
        }
        self.rows: list[Row] = []
        self.baseline_requests: dict[str, Path] = {}
        self.notes: list[str] = []
        self.probes: list[float] = []  # CPU probe seconds, at the start and at the end
        self.idle_disk: list[str] = []  # the idle disk's syncs, at the start and at the end
        self.settling: list[float] = []  # seconds of each settle()

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)

    async def setup(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        await admin.execute(f'CREATE DATABASE "{self.database}"')
        await admin.close()
        await asyncio.to_thread(
            subprocess.run,
            [str(BIN / "parley"), "db", "upgrade"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        created = json.loads(
            (
                await asyncio.to_thread(
                    subprocess.run,
                    [
                        str(BIN / "parley"),
                        "firm",
                        "create",
                        "--name",
                        "Bench & Co",
                        "--sms-number",
                        FIRM_NUMBER,
                        "--staff-email",
                        "bench@example.com",
                        "--staff-password",
                        "bench-password-2026",
                    ],
                    env=self.env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
            ).stdout
        )
        self.api_token = created["api_token"]
        self.firm = dataset.Firm(
            uuid.UUID(created["firm_id"]), uuid.UUID(created["staff_id"]), FIRM_NUMBER
        )
        db = await self.connect()
        started = time.monotonic()
        await dataset.load_conversations(db, self.firm, self.options.contacts, SECRET_KEY)
        elapsed = time.monotonic() - started
        counts = await db.fetchrow(
            """SELECT (SELECT count(*) FROM messages) AS messages,
                      (SELECT count(*) FROM contacts) AS contacts,
                      (SELECT count(*) FROM sms_deliveries) AS deliveries"""
        )
        await db.close()
        self.probes.append(cpu_probe_seconds())
        await self.settle()  # the load's own writing is not the disk's hour
        self.idle_disk.append(await asyncio.to_thread(idle_disk, self.work))
        self.notes.append(
            f"data set: {counts['contacts']:,} contacts, {counts['messages']:,} messages, "
            f"{counts['deliveries']:,} deliveries and reply links loaded in {elapsed:.1f} s"
        )

    async def teardown(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        await admin.close()

    async def reset_statuses(self) -> None:
        db = await self.connect()
        await db.execute("DELETE FROM sms_delivery_events")
        await db.execute(
            "UPDATE sms_deliveries SET status = 'sending' WHERE provider_id LIKE 'SM%'"
        )
        await db.close()

    async def reset_openings(self) -> int:
        """Forget the links' first visits; how many there were."""
        db = await self.connect()
        try:
            marked = await db.execute(
                "UPDATE reply_links SET opened_at = NULL WHERE opened_at IS NOT NULL"
            )
        finally:
            await db.close()
        return int(marked.split()[-1])

    async def settle(self) -> None:
        """Nothing the bench wrote before a run is still on its way to the disk.

        Loading the data set, resetting statuses and the previous run all leave pages
        to vacuum, to checkpoint and for the kernel to write back; done during the
        next measured run, that writing stalled its commits (syncs of 50-200 ms against
        12-25 ms after settling, in the thirteenth session), most of all the baseline's
        status run, straight after the statuses' reset, which flattered the ratio. A
        run's own writes, and the checkpoints they bring, still fall in its measurement.
        """
        started = time.monotonic()
        db = await self.connect()
        try:
            await db.execute("VACUUM ANALYZE")  # what bench/README.md asks after an import
            await db.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError as refused:
            sys.exit(
                f"settling the database before a run: {refused}; connect as a superuser "
                "or a role granted pg_checkpoint (BENCH_POSTGRES)"
            )
        finally:
            await db.close()
        await asyncio.to_thread(os.sync)
        self.settling.append(time.monotonic() - started)

    def versus_baseline(
        self, row: Row, name: str, requests: Path, connections: int
    ) -> tuple[dict[str, float], dict[str, float]]:
        seconds, warmup = self.options.seconds, self.options.warmup
        asyncio.run(self.settle())
        with (
            parley_server(self.env, self.work) as process,
            profiled(process.pid, name, warmup + seconds),
        ):
            ours = warmed_wrk(PORTS["parley"], process.pid, requests, connections, seconds, warmup)
            ours["peak_mb"] = peak_memory_mb(process.pid)
        if name == "status":  # the baseline meets the same statuses Parley met
            asyncio.run(self.reset_statuses())
        if name == "reply":  # and the same first visits
            ours["opened"] = asyncio.run(self.reset_openings())
        asyncio.run(self.settle())
        with baseline_server(self.env, self.work) as process:
            bare = warmed_wrk(
                PORTS["baseline"],
                process.pid,
                self.baseline_requests.get(name, requests),
                connections,
                seconds,
                warmup,
            )
            bare["peak_mb"] = peak_memory_mb(process.pid)
        row.figures.update(
            {
                "per_second": ours["per_second"],
                "p50_ms": ours["p50_ms"],
                "p95_ms": ours["p95_ms"],
                "p99_ms": ours["p99_ms"],
                "errors": ours["non_2xx"] + ours["socket_errors"],
                "baseline_per_second": bare["per_second"],
                "baseline_p99_ms": bare["p99_ms"],
                "ratio": ours["per_second"] / bare["per_second"],
                "cpu_ms": ours["cpu_ms"],
                "baseline_cpu_ms": bare["cpu_ms"],
                "db_cpu_ms": ours["db_cpu_ms"],
                "baseline_db_cpu_ms": bare["db_cpu_ms"],
                "peak_mb": ours["peak_mb"],
                "disk_stalls": ours["disk_stalls"],
                "disk_longest_ms": ours["disk_longest_ms"],
                "baseline_disk_stalls": bare["disk_stalls"],
                "baseline_disk_longest_ms": bare["disk_longest_ms"],
            }
        )
        return ours, bare

    def status_callbacks(self) -> None:
        row = Row(
            "signed status callbacks, 64 connections",
            ">= 2,000/s, >= 60 % of baseline, p99 < 50 ms",
        )
        asyncio.run(self.reset_statuses())
        requests = status_callbacks_file(self.work, self.options.contacts)
        self.versus_baseline(row, "status", requests, 64)
        self.rows.append(row)

    def inbound_texts(self) -> None:
        row = Row(
            "signed inbound texts, routed, 64 connections", ">= 500/s, routing decision p99 < 10 ms"
        )
        requests = inbound_file(self.work, self.options.contacts, "parley")
        self.baseline_requests["inbound"] = inbound_file(
            self.work, self.options.contacts, "baseline"
        )
        self.versus_baseline(row, "inbound", requests, 64)
        routing = asyncio.run(self.routing_decisions())
        row.figures["routing_p50_ms"] = routing[0]
        row.figures["routing_p99_ms"] = routing[1]
        filed = asyncio.run(
            self.count("SELECT count(*) FROM inbound_texts WHERE outcome = 'filed'")
        )
        row.figures["filed"] = filed
        self.rows.append(row)

    async def count(self, query: str) -> int:
        db = await self.connect()
        value: int = await db.fetchval(query)
        await db.close()
        return value

    async def routing_decisions(self) -> tuple[float, float]:
        """The routing decision alone, as `receive_text` makes it: facts loaded, rule applied."""
        settings = Settings(database_url=self.database_url)
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        timings = []
        senders = random.Random(17).sample(range(self.options.contacts), 2000)
        try:
            for i in senders:
                started = time.perf_counter()
                # As `receive_text` reads them: one statement, on the same path.
                async with ctx.db.statements() as statements:
                    facts = await routing_facts(
                        statements, ctx, self.firm.id, dataset.mobile_of(i), datetime.now(UTC)
                    )
                decision = decide_reply_route(facts)
                timings.append((time.perf_counter() - started) * 1000)
                assert isinstance(decision, FileInConversation), decision
        finally:
            await ctx.db.dispose()
        return statistics.median(timings), percentile(timings, 0.99)

    def reply_pages(self) -> None:
        row = Row("reply page GET, 32 connections", ">= 1,000/s, p99 < 30 ms, page < 50 KB")
        requests = reply_pages_file(self.work, self.options.contacts)
        with parley_server(self.env, self.work):
            page = httpx.get(
                f"http://127.0.0.1:{PORTS['parley']}/r/{dataset.reply_token(SECRET_KEY, 0)}"
            )
            page.raise_for_status()
        ours, _ = self.versus_baseline(row, "reply", requests, 32)
        row.figures["page_kb"] = len(page.content) / 1024
        # Links Parley's run marked opened (the warm-up's and the size check's too): about
        # its requests, when every page is a person's first visit.
        row.figures["opened"] = ours["opened"]
        self.rows.append(row)

    async def queue(
        self, numbers: dict[str, float], batches: list[tuple[list[str], int, str, int]]
    ) -> None:
        db = await self.connect()
        await db.executemany(
            """INSERT INTO firm_sms_numbers (id, firm_id, number, send_rate_per_second)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (number)
               DO UPDATE SET send_rate_per_second = excluded.send_rate_per_second""",
            [(uuid.uuid4(), self.firm.id, number, rate) for number, rate in numbers.items()],
        )
        first = 0
        for senders, count, body, segments in batches:
            await dataset.queue_texts(
                db, self.firm, self.options.contacts, senders, (first, count), body, segments
            )
            first += count
        await db.close()

    def dispatch(self) -> None:
        row = Row(f"dispatch: {self.options.queued:,} queued texts, 2 workers", ">= 1,000 texts/s")
        numbers = {f"+1415222{1000 + n}": 10_000.0 for n in range(10)}
        asyncio.run(self.clear_queue())
        asyncio.run(
            self.queue(
                numbers,
                [(list(numbers), self.options.queued, "Bench & Co: your documents are ready.", 1)],
            )
        )
        arrivals, peak = self.run_workers(self.options.queued)
        times = sorted(t for t, _, _ in arrivals)
        row.figures["per_second"] = (len(times) - 1) / (times[-1] - times[0])
        row.figures["peak_mb"] = peak
        row.figures["sent"] = len(times)
        self.rows.append(row)
        self.rate_held()

    def rate_held(self) -> None:
        limited = {"+14152223001": 10.0, "+14152223002": 4.0}
        row = Row(
            "dispatch: limited numbers, 2 workers", "each number at its configured segments/s"
        )
        long_body = "Bench & Co: " + "your hearing moved to Thursday at 10 in courtroom 4B. " * 3
        asyncio.run(self.clear_queue())
        asyncio.run(
            self.queue(
                limited,
                [
                    (["+14152223001"], LIMITED_SHORT_TEXTS, "Bench & Co: documents ready.", 1),
                    (["+14152223002"], LIMITED_LONG_TEXTS, long_body, 2),
                ],
            )
        )
        arrivals, _ = self.run_workers(LIMITED_SHORT_TEXTS + LIMITED_LONG_TEXTS)
        for number, rate in limited.items():
            times = sorted(t for t, sender, _ in arrivals if sender == number)
            segments = 1 if rate == 10.0 else 2
            measured = segments * (len(times) - 1) / (times[-1] - times[0])
            row.figures[f"{number[-4:]}_configured"] = rate
            row.figures[f"{number[-4:]}_measured"] = measured
            row.figures[f"{number[-4:]}_busiest_second"] = segments * busiest_second(times)
            row.figures[f"{number[-4:]}_closest_ms"] = closest_beyond_a_second(
                times, int(rate) // segments
            )
        self.rows.append(row)

    async def clear_queue(self) -> None:
        """Forget the texts an earlier dispatch scenario queued."""
        db = await self.connect()
        queued = "SELECT md5('queued' || i)::uuid FROM generate_series(0, $1::int) AS i"
        for table, column in (
            ("reply_links", "delivery_id"),
            ("sms_delivery_events", "delivery_id"),
            ("sms_deliveries", "id"),
        ):
            await db.execute(
                f"DELETE FROM {table} WHERE {column} IN ({queued})", self.options.contacts
            )
        await db.close()

    def run_workers(self, expected: int) -> tuple[list[tuple[float, str, str]], float]:
        asyncio.run(self.settle())
        env = {**self.env}
        if self.options.redis:
            env["PARLEY_REDIS_URL"] = self.options.redis
        with server("sink", SINK_COMMAND, self.env, self.work):
            workers = [
                subprocess.Popen(
                    [str(BIN / "parley"), "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=(self.work / f"worker{n}.log").open("wb"),
                )
                for n in range(2)
            ]
            try:
                sink = f"http://127.0.0.1:{PORTS['sink']}"
                deadline = time.monotonic() + 600
                while httpx.get(f"{sink}/count").json()["arrivals"] < expected:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                arrivals = httpx.get(f"{sink}/stats").json()["arrivals"]
                peak = max(peak_memory_mb(w.pid) for w in workers)
            finally:
                for w in workers:
                    w.terminate()
                for w in workers:
                    w.wait(timeout=30)
        return [(float(t), str(sender), str(to)) for t, sender, to in arrivals], peak

    def send_latency(self) -> None:
        row = Row(
            "send latency: API accept -> provider request, idle", "p50 < 100 ms, p99 < 250 ms"
        )
        asyncio.run(self.clear_queue())
        asyncio.run(self.queue({FIRM_NUMBER: 1000.0}, []))
        asyncio.run(self.settle())
        latencies = []
        with (
            server("sink", SINK_COMMAND, self.env, self.work),
            parley_server(self.env, self.work, dispatcher=True),
        ):
            api = httpx.Client(
                base_url=f"http://127.0.0.1:{PORTS['parley']}",
                headers={"Authorization": f"Bearer {self.api_token}"},
            )
            sink = httpx.Client(base_url=f"http://127.0.0.1:{PORTS['sink']}")
            time.sleep(1)
            for n in range(self.options.latency_samples):
                conversation = dataset.row_id("conversation", self.options.contacts - 1 - n)
                started = time.time()
                response = api.post(
                    f"/api/v1/conversations/{conversation}/messages",
                    json={"body": f"Hearing moved, sample {n}.", "send_as_sms": True},
                )
                if response.status_code != 201:
                    sys.exit(f"sending failed: {response.status_code} {response.text}")
                to = dataset.mobile_of(self.options.contacts - 1 - n)
                while True:
                    arrived = [
                        t for t, _, number in sink.get("/stats").json()["arrivals"] if number == to
                    ]
                    if arrived:
                        latencies.append((arrived[0] - started) * 1000)
                        break
                    time.sleep(0.005)
                time.sleep(0.1)
        row.figures["p50_ms"] = statistics.median(latencies)
        row.figures["p95_ms"] = percentile(latencies, 0.95)
        row.figures["p99_ms"] = percentile(latencies, 0.99)
        row.figures["samples"] = len(latencies)
        self.rows.append(row)

    def print_table(self) -> None:
        self.probes.append(cpu_probe_seconds())
        self.notes.append(
            "CPU probe (a 10-million-step Python loop; lower is faster; compare runs only "
            f"at similar probes): {self.probes[0]:.2f} s at the start, "
            f"{self.probes[-1]:.2f} s at the end"
        )
        self.idle_disk.append(idle_disk(self.work))
        self.notes.append(
            "disk probe (an 8 KB write and fdatasync every 10 ms for 5 s, the machine idle "
            "after a sync): "
            f"{self.idle_disk[0]} at the start; {self.idle_disk[-1]} at the end"
        )
        if self.settling:
            self.notes.append(
                "after the load and before each measured run: VACUUM ANALYZE, CHECKPOINT and sync, "
                f"{min(self.settling):.1f}-{max(self.settling):.1f} s"
            )
        print()
        for note in self.notes:
            print(f"  {note}")
        print()
        print(f"{'path':<52} {'target':<48} figures")
        for row in self.rows:
            figures = ", ".join(
                f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in row.figures.items()
            )
            print(f"{row.path:<52} {row.target:<48} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--queued", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load not measured")
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument(
        "--only", nargs="*", default=["status", "inbound", "reply", "dispatch", "latency"]
    )
    parser.add_argument("--keep-database", action="store_true", help="keep it until Enter")
    parser.add_argument("--profile", type=Path, help="write py-spy flame graphs of Parley here")
    options = parser.parse_args()
    # Every queued text and every latency sample goes to a loaded client of its own.
    clients_texted = {
        "dispatch": max(options.queued, LIMITED_SHORT_TEXTS + LIMITED_LONG_TEXTS),
        "latency": options.latency_samples,
    }
    for scenario in set(options.only) & clients_texted.keys():
        if options.contacts < clients_texted[scenario]:
            parser.error(
                f"--contacts {options.contacts:,} is too few: the {scenario} scenario texts "
                f"{clients_texted[scenario]:,} different clients"
            )
    global PROFILES
    PROFILES = options.profile
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as work:
        bench = Bench(options, Path(work))
        asyncio.run(bench.setup())
        try:
            steps = {
                "status": bench.status_callbacks,
                "inbound": bench.inbound_texts,
                "reply": bench.reply_pages,
                "dispatch": bench.dispatch,
                "latency": bench.send_latency,
            }
            for name in options.only:
                print(f"running {name} ...", flush=True)
                try:
                    steps[name]()
                except Exception as error:  # one broken scenario must not hide the others
                    bench.rows.append(Row(name, "", {"error": f"{type(error).__name__}: {error}"}))
        finally:
            if options.keep_database:
                print(f"kept {bench.database_url} and the request files in {work}")
                input("press Enter to drop them ")
            asyncio.run(bench.teardown())
        bench.print_table()


if __name__ == "__main__":
    main()
