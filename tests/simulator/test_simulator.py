"""The carrier simulator speaks Twilio's API well enough for Twilio's own client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from parley.providers.twilio.signature import is_valid_signature
from parley.simulator.app import SimulatorConfig, create_simulator_app
from parley.simulator.state import Outcome, SimulatorState
from tests.support.live import eventually
from tests.support.servers import reserve_port, serve, url_of

SID, TOKEN = "AC" + "2" * 32, "simulator-test-token"
FIRM, DANA = "+12025550100", "+12025550142"


@dataclass
class Received:
    """A stand-in for Parley's webhooks that records what the carrier posts to it."""

    url: str
    posts: list[tuple[str, dict[str, str], bool]]


@pytest.fixture
async def receiver() -> AsyncIterator[Received]:
    sock = reserve_port()
    received = Received(url_of(sock), [])

    async def record(request: Request) -> Response:
        params = {k: str(v) for k, v in (await request.form()).items()}
        valid = is_valid_signature(
            TOKEN, str(request.url), params, request.headers.get("X-Twilio-Signature")
        )
        received.posts.append((request.url.path, params, valid))
        if request.url.path == "/inbound":
            return Response(
                "<Response><Message>Thanks, we got it.</Message></Response>",
                media_type="application/xml",
            )
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    async with serve(app, sock):
        yield received


@pytest.fixture
async def simulator(receiver: Received) -> AsyncIterator[tuple[str, SimulatorState]]:
    state = SimulatorState()
    config = SimulatorConfig(SID, TOKEN, 0.02, inbound_webhook_url=f"{receiver.url}/inbound")
    app = create_simulator_app(config, state)
    async with serve(app) as url:
        yield url, state
        await app.state.simulator.carrier.aclose()


def twilio_client(url: str, token: str = TOKEN) -> Client:
    client = Client(SID, token)
    client.api.base_url = url
    return client


async def test_twilios_own_client_can_send_fetch_and_list(
    simulator: tuple[str, SimulatorState],
) -> None:
    url, _ = simulator

    def use_the_official_client() -> tuple[str, str, list[str]]:
        client = twilio_client(url)
        sent = client.messages.create(to=DANA, from_=FIRM, body="Hello from Parley")
        fetched = client.messages(sent.sid).fetch()
        listed = [m.sid for m in client.messages.list(to=DANA, limit=10)]
        return sent.sid, fetched.body, listed

    sid, body, listed = await asyncio.to_thread(use_the_official_client)
    assert sid.startswith("SM") and len(sid) == 34
    assert body == "Hello from Parley"
    assert listed == [sid]


async def test_bad_credentials_get_twilios_401(simulator: tuple[str, SimulatorState]) -> None:
    url, _ = simulator

    def send() -> None:
        twilio_client(url, token="wrong").messages.create(to=DANA, from_=FIRM, body="x")

    with pytest.raises(TwilioRestException) as refused:
        await asyncio.to_thread(send)
    assert (refused.value.status, refused.value.code) == (401, 20003)


@pytest.mark.parametrize(
    ("to", "code"),
    [("+15005550001", 21211), ("+15005550009", 21614), ("+15005550004", 21610), ("12", 21211)],
)
async def test_twilios_magic_numbers_fail_as_twilio_fails_them(
    simulator: tuple[str, SimulatorState], to: str, code: int
) -> None:
    url, _ = simulator
    async with httpx.AsyncClient(auth=(SID, TOKEN)) as http:
        response = await http.post(
            f"{url}/2010-04-01/Accounts/{SID}/Messages.json",
            data={"To": to, "From": FIRM, "Body": "x"},
        )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message", "more_info", "status"}


async def test_status_callbacks_arrive_signed_sent_then_delivered(
    simulator: tuple[str, SimulatorState], receiver: Received
) -> None:
    url, _ = simulator
    async with httpx.AsyncClient(auth=(SID, TOKEN)) as http:
        await http.post(
            f"{url}/2010-04-01/Accounts/{SID}/Messages.json",
            data={"To": DANA, "From": FIRM, "Body": "x", "StatusCallback": f"{receiver.url}/s?d=1"},
        )

    async def two_callbacks() -> bool:
        return len(receiver.posts) == 2

    await eventually(two_callbacks, within=5)
    assert [(p[1]["MessageStatus"], p[2]) for p in receiver.posts] == [
        ("sent", True),
        ("delivered", True),
    ]


async def test_a_number_set_to_fail_ends_undelivered_with_its_code(
    simulator: tuple[str, SimulatorState], receiver: Received
) -> None:
    url, state = simulator
    state.set_outcome(DANA, Outcome(kind="fail", error_code=30006))
    async with httpx.AsyncClient(auth=(SID, TOKEN)) as http:
        await http.post(
            f"{url}/2010-04-01/Accounts/{SID}/Messages.json",
            data={"To": DANA, "From": FIRM, "Body": "x", "StatusCallback": f"{receiver.url}/s"},
        )

    async def finished() -> bool:
        return len(receiver.posts) == 2

    await eventually(finished, within=5)
    final = receiver.posts[-1][1]
    assert (final["MessageStatus"], final["ErrorCode"]) == ("undelivered", "30006")


async def test_list_filters_by_number_and_pages(simulator: tuple[str, SimulatorState]) -> None:
    url, _ = simulator
    base = f"{url}/2010-04-01/Accounts/{SID}/Messages.json"
    async with httpx.AsyncClient(auth=(SID, TOKEN)) as http:
        for to in (DANA, DANA, DANA, "+12025550143"):
            await http.post(base, data={"To": to, "From": FIRM, "Body": "x"})
        first = (await http.get(base, params={"To": DANA, "PageSize": 2})).json()
        second = (await http.get(url + first["next_page_uri"])).json()
    assert [len(first["messages"]), len(second["messages"])] == [2, 1]
    assert second["next_page_uri"] is None
    assert {m["to"] for m in first["messages"] + second["messages"]} == {DANA}


async def test_a_text_from_a_phone_reaches_the_firm_signed_and_the_reply_lands_on_the_phone(
    simulator: tuple[str, SimulatorState], receiver: Received
) -> None:
    url, state = simulator
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{url}/api/inbound", json={"from": DANA, "to": FIRM, "body": "Got it"}
        )
    assert answer.json()["status"] == 200
    ((path, params, valid),) = receiver.posts
    assert (path, params["Body"], params["From"], params["To"], valid) == (
        "/inbound",
        "Got it",
        DANA,
        FIRM,
        True,
    )
    assert [(t.body, t.outgoing) for t in state.phones[DANA]] == [
        ("Got it", True),
        ("Thanks, we got it.", False),
    ]


async def test_an_outage_answers_503(simulator: tuple[str, SimulatorState]) -> None:
    url, state = simulator
    state.mode = "unavailable"
    async with httpx.AsyncClient(auth=(SID, TOKEN)) as http:
        response = await http.post(
            f"{url}/2010-04-01/Accounts/{SID}/Messages.json",
            data={"To": DANA, "From": FIRM, "Body": "x"},
        )
    assert response.status_code == 503
    assert state.sent_bodies() == []
