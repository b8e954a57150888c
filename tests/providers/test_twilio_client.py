"""The Twilio adapter against Twilio's recorded answers (testdata/twilio_send.json).

Twilio itself cannot run here, so a loopback server replays its recorded answers;
the same adapter is exercised against the real simulator in every end-to-end test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from parley.providers.sms import OutboundText, ProviderMessage, SendFailed
from parley.providers.twilio.client import TwilioProvider
from parley.simulator.app import SimulatorConfig, create_simulator_app
from parley.simulator.state import SimulatorState
from tests.support.servers import reserve_port, serve

SID, TOKEN = "AC" + "1" * 32, "token"
CASES = json.loads((Path(__file__).parent / "testdata" / "twilio_send.json").read_text())
TEXT = OutboundText(
    to="+12025550142",
    sender="+12025550100",
    body="Hale & Marsh LLP: Hello\nReply: https://p.example/r/abc",
    status_callback_url="https://p.example/webhooks/twilio/status?d=1",
)


@dataclass(frozen=True)
class Seen:
    method: str
    target: str  # path and query, as they came over the wire
    headers: dict[str, str]
    body: bytes


def replay(answers: list[Response], seen: list[Seen]) -> Starlette:
    """Answers each request with the next recorded answer, noting what was asked."""

    async def answer(request: Request) -> Response:
        query = request.scope["query_string"].decode()
        target = request.scope["raw_path"].decode() + (f"?{query}" if query else "")
        seen.append(Seen(request.method, target, dict(request.headers), await request.body()))
        return answers[len(seen) - 1]

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def recorded(case: dict[str, Any]) -> Response:
    if "text" in case:
        return PlainTextResponse(case["text"], status_code=case["status"])
    return JSONResponse(case["body"], status_code=case["status"], headers=case.get("headers"))


@asynccontextmanager
async def provider_answering(
    answers: list[Response], seen: list[Seen], *, answer_within: float = 10.0
) -> AsyncIterator[TwilioProvider]:
    async with serve(replay(answers, seen)) as url:
        provider = TwilioProvider(
            account_sid=SID, auth_token=TOKEN, api_url=url + "/", timeout=answer_within
        )
        try:
            yield provider
        finally:
            await provider.aclose()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_send_understands_twilios_answers(case: dict[str, Any]) -> None:
    expect = case["expect"]
    async with provider_answering([recorded(case)], []) as provider:
        if "provider_id" in expect:
            assert (await provider.send(TEXT)).provider_id == expect["provider_id"]
            return
        with pytest.raises(SendFailed) as failed:
            await provider.send(TEXT)
    assert failed.value.permanent is expect["permanent"]
    assert failed.value.code == expect["code"]
    if "reason" in expect:
        assert failed.value.reason == expect["reason"]
    if "retry_after" in expect:
        assert failed.value.retry_after == expect["retry_after"]


async def test_send_posts_the_form_twilio_expects() -> None:
    seen: list[Seen] = []
    async with provider_answering([recorded(CASES[0])], seen) as provider:
        await provider.send(TEXT)
    (request,) = seen
    assert request.method == "POST"
    assert request.target == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert form == {
        "To": TEXT.to,
        "From": TEXT.sender,
        "Body": TEXT.body,
        "StatusCallback": TEXT.status_callback_url,
    }


@dataclass
class Wire:
    """What a relay saw: when each connection opened, when its first bytes came."""

    opened_at: list[float] = field(default_factory=list)
    first_bytes_at: list[float] = field(default_factory=list)
    connections: list[asyncio.StreamWriter] = field(default_factory=list)

    def hang_up(self) -> None:
        """Close every connection, as a server does with those idle past its keep-alive."""
        for connection in self.connections:
            connection.close()


@asynccontextmanager
async def relayed(url: str) -> AsyncIterator[tuple[str, Wire]]:
    """A loopback relay to `url`, watching the wire; yields its own URL."""
    target = urlsplit(url)
    wire = Wire()

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    async def relay(client: asyncio.StreamReader, answer: asyncio.StreamWriter) -> None:
        wire.opened_at.append(time.monotonic())
        wire.connections.append(answer)
        upstream, ask = await asyncio.open_connection(target.hostname, target.port)
        first = await client.read(65536)
        wire.first_bytes_at.append(time.monotonic())
        ask.write(first)
        await asyncio.gather(pipe(client, ask), pipe(upstream, answer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}", wire
    finally:
        server.close()


@asynccontextmanager
async def provider_behind_relay(
    answers: list[Response],
) -> AsyncIterator[tuple[TwilioProvider, Wire]]:
    async with serve(replay(answers, [])) as url, relayed(url) as (relay_url, wire):
        provider = TwilioProvider(account_sid=SID, auth_token=TOKEN, api_url=relay_url + "/")
        try:
            yield provider, wire
        finally:
            await provider.aclose()


async def test_a_text_with_a_moment_to_leave_connects_first_and_leaves_at_it() -> None:
    async with provider_behind_relay([recorded(CASES[0])]) as (provider, wire):
        leave_at = time.monotonic() + 0.5
        await provider.send(TEXT, leave_at=leave_at)
    (opened,), (sent,) = wire.opened_at, wire.first_bytes_at
    # Opening a connection to Twilio takes a TCP and a TLS handshake: done beforehand,
    # it cannot make the text late and bunch it with the next.
    assert opened < leave_at <= sent


async def waiting_on_a_used_connection(
    provider: TwilioProvider, leave_in: float
) -> asyncio.Task[ProviderMessage]:
    """A text sent (its connection is then open and idle), and one holding that connection
    while it waits `leave_in` seconds to leave."""
    await provider.send(TEXT)
    waiting = asyncio.create_task(provider.send(TEXT, leave_at=time.monotonic() + leave_in))
    await asyncio.sleep(0.2)
    return waiting


async def test_a_text_called_off_while_waiting_to_leave_gives_its_connection_back() -> None:
    async with provider_behind_relay([recorded(CASES[0])] * 2) as (provider, wire):
        waiting = await waiting_on_a_used_connection(provider, leave_in=60)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await provider.send(TEXT)
    assert len(wire.opened_at) == 1  # the second send did not keep it, the third used it


async def test_a_connection_the_provider_closes_while_a_text_waits_is_replaced() -> None:
    async with provider_behind_relay([recorded(CASES[0])] * 2) as (provider, wire):
        waiting = await waiting_on_a_used_connection(provider, leave_in=0.5)
        wire.hang_up()
        accepted = await waiting
    assert accepted.provider_id == CASES[0]["expect"]["provider_id"]
    assert len(wire.opened_at) == 2


class Held(JSONResponse):
    """Twilio's answer, held back until `release` is set."""

    def __init__(self, content: Any, release: asyncio.Event) -> None:
        super().__init__(content)
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.release.wait()
        await super().__call__(scope, receive, send)


async def test_a_provider_that_does_not_answer_in_time_is_a_transient_failure() -> None:
    release = asyncio.Event()
    answer = Held(CASES[0]["body"], release)
    async with provider_answering([answer], [], answer_within=0.2) as provider:
        with pytest.raises(SendFailed) as failed:
            await provider.send(TEXT)
        release.set()
    assert failed.value.permanent is False
    assert "did not answer in time" in failed.value.reason


async def test_find_sent_follows_twilios_next_page_uri_as_given() -> None:
    page_two = f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=100&Page=1&PageToken=PA%2Fxyz"
    older = "Mon, 02 Nov 2026 10:00:00 +0000"
    first_page = {"messages": [], "next_page_uri": page_two}
    second_page = {
        "messages": [
            {"sid": "SM" + "2" * 32, "status": "sent", "body": TEXT.body, "date_created": older}
        ],
        "next_page_uri": None,
    }
    seen: list[Seen] = []
    answers: list[Response] = [JSONResponse(first_page), JSONResponse(second_page)]
    async with provider_answering(answers, seen) as provider:
        found = await provider.find_sent(TEXT, since=datetime(2026, 11, 1, tzinfo=UTC))
    assert found is not None and found.provider_id == "SM" + "2" * 32
    assert [s.target for s in seen][1] == page_two


async def test_an_unreachable_provider_is_a_transient_failure() -> None:
    closed = reserve_port()  # bound, never listening: connections are refused
    provider = TwilioProvider(
        account_sid=SID, auth_token=TOKEN, api_url=f"http://127.0.0.1:{closed.getsockname()[1]}"
    )
    with pytest.raises(SendFailed) as failed:
        await provider.send(TEXT)
    await provider.aclose()
    closed.close()
    assert failed.value.permanent is False
    assert "unreachable" in failed.value.reason


@pytest.fixture
async def simulated() -> AsyncIterator[tuple[TwilioProvider, SimulatorState]]:
    state = SimulatorState()
    async with serve(create_simulator_app(SimulatorConfig(SID, TOKEN, 60.0), state)) as url:
        provider = TwilioProvider(account_sid=SID, auth_token=TOKEN, api_url=url)
        yield provider, state
        await provider.aclose()


async def test_find_sent_finds_an_earlier_attempt_by_its_unique_body(
    simulated: tuple[TwilioProvider, SimulatorState],
) -> None:
    provider, _ = simulated
    before = datetime.now(UTC)
    sent = await provider.send(TEXT)
    other = OutboundText(TEXT.to, TEXT.sender, TEXT.body + "-other", TEXT.status_callback_url)
    await provider.send(other)
    found = await provider.find_sent(TEXT, since=before)
    assert found is not None and found.provider_id == sent.provider_id


async def test_find_sent_says_none_when_the_provider_never_took_it(
    simulated: tuple[TwilioProvider, SimulatorState],
) -> None:
    provider, _ = simulated
    assert await provider.find_sent(TEXT, since=datetime.now(UTC)) is None


async def test_fetch_reads_a_text_back(simulated: tuple[TwilioProvider, SimulatorState]) -> None:
    provider, _ = simulated
    sent = await provider.send(TEXT)
    fetched = await provider.fetch(sent.provider_id)
    assert (fetched.provider_id, fetched.status) == (sent.provider_id, "queued")
