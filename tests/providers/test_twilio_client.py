"""The Twilio adapter against Twilio's recorded answers (testdata/twilio_send.json).

Twilio itself cannot run here, so its answers are replayed through httpx.MockTransport;
the same adapter is exercised against the real simulator in every end-to-end test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from parley.providers.sms import OutboundText, SendFailed
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


def replay(case: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "text" in case:
            return httpx.Response(case["status"], text=case["text"])
        return httpx.Response(case["status"], json=case["body"], headers=case.get("headers"))

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_send_understands_twilios_answers(case: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []
    provider = TwilioProvider(
        account_sid=SID,
        auth_token=TOKEN,
        api_url="https://api.twilio.com",
        transport=replay(case, seen),
    )
    expect = case["expect"]
    try:
        if "provider_id" in expect:
            assert (await provider.send(TEXT)).provider_id == expect["provider_id"]
        else:
            with pytest.raises(SendFailed) as failed:
                await provider.send(TEXT)
            assert failed.value.permanent is expect["permanent"]
            assert failed.value.code == expect["code"]
            if "reason" in expect:
                assert failed.value.reason == expect["reason"]
            if "retry_after" in expect:
                assert failed.value.retry_after == expect["retry_after"]
    finally:
        await provider.aclose()


async def test_send_posts_the_form_twilio_expects() -> None:
    seen: list[httpx.Request] = []
    provider = TwilioProvider(
        account_sid=SID,
        auth_token=TOKEN,
        api_url="https://api.twilio.com/",
        transport=replay(CASES[0], seen),
    )
    await provider.send(TEXT)
    await provider.aclose()
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == httpx.BasicAuth(SID, TOKEN)._auth_header
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "To": TEXT.to,
        "From": TEXT.sender,
        "Body": TEXT.body,
        "StatusCallback": TEXT.status_callback_url,
    }


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
