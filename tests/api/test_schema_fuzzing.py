"""Schemathesis against our OpenAPI schema: the staff API and Twilio's webhooks.

Whatever a client or a forger sends, Parley never fails (no 5xx), and every refusal
is a 4xx in the error shape of DESIGN §3. Requests go in-process to the ASGI app,
with a valid bearer token (schemathesis also tries none), webhooks signed exactly
as Twilio signs them (and sometimes not at all), and ids that Hypothesis may swap
for ones that exist so the fuzzing reaches past 404.

The normal run is bounded and deterministic; `make fuzz` (PARLEY_FUZZ=long) explores
far more, with fresh randomness each time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi

from parley.providers.twilio.signature import sign
from parley.services.context import ServiceContext
from parley.settings import Settings
from parley.web.app import create_app
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.fuzzing import LONG
from tests.support.twilio_webhooks import text_in

pytestmark = pytest.mark.fuzz

FUZZ_SETTINGS = settings(
    max_examples=300 if LONG else 25,
    derandomize=not LONG,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)

DANA, STRANGER = "+12025550142", "+12025550199"

# The schema is the app's own; which database serves the requests is chosen per test.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(database_url="sqlite:///schema-only.db"))
)
# Unknown query parameters are ignored, as on most of the web; unknown body fields
# are refused (the schemas say additionalProperties: false), and that is fuzzed.
schema.config.generation.update(allow_extra_parameters=False)


@schema.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Failure,
    case: schemathesis.Case,
    response: schemathesis.Response,
) -> bool:
    # A repeated query parameter counts by its last value, as in most of the web;
    # schemathesis takes `?limit=x&limit=1` for a list where a number belongs.
    repeated = any(isinstance(value, list) for value in (case.query or {}).values())
    return not (failure.code == "ST201" and repeated)


@dataclass(frozen=True)
class Seeded:
    """Records that exist, so that generated requests can name them."""

    ids: dict[str, str]  # path or body parameter name → an id of that kind
    inbound: dict[str, str]  # webhook parameter → a value that reaches the firm


@pytest.fixture
async def seeded(api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin) -> Seeded:
    dana = await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone=DANA)
    conversation = await new_conversation(api, firm.headers, [dana])
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="The court has set a date.",
        send_as_sms=True,
    )
    await text_in(api, ctx, from_=STRANGER, to=firm.sms_number, body="Who is this?")
    (held,) = (await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"]
    ids = {
        "contact_id": dana["id"],
        "participant_ids": dana["id"],
        "matter_id": conversation["matter"]["id"],
        "conversation_id": conversation["id"],
        "message_id": message["id"],
        "item_id": held["id"],
    }
    return Seeded(ids, inbound={"From": DANA, "To": firm.sms_number})


@pytest.fixture
def fuzzed_app(settings: Settings) -> Iterator[FastAPI]:
    # Its own database connections, opened on schemathesis's event loop.
    yield create_app(settings)
    asgi.shutdown_lifespans()


def refusals_carry_the_error_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    if response.status_code < 400:
        return None
    assert response.status_code < 500, f"server error {response.status_code}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), body
    return True


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def swap_in_existing(case: schemathesis.Case, seeded: Seeded, data: st.DataObject) -> None:
    """Some valid ids become ones that exist; an invalid value stays invalid."""
    containers = [case.path_parameters or {}]
    if isinstance(case.body, dict):
        containers.append(case.body)
    for container in containers:
        for name, value in container.items():
            existing = seeded.ids.get(name)
            if existing is None:
                continue
            if isinstance(value, list):
                container[name] = [
                    existing if _is_uuid(v) and data.draw(st.booleans()) else v for v in value
                ]
            elif _is_uuid(value) and data.draw(st.booleans()):
                container[name] = existing


def signed_as_twilio(case: schemathesis.Case, settings: Settings) -> dict[str, str]:
    """The X-Twilio-Signature of the form exactly as it will be sent."""
    encoded = requests.Request("POST", "http://parley.test/", data=case.body).prepare().body
    text = encoded.decode() if isinstance(encoded, bytes) else encoded or ""
    params = dict(parse_qsl(text, keep_blank_values=True))
    url = settings.public_url.rstrip("/") + case.formatted_path
    return {"X-Twilio-Signature": sign(settings.twilio_auth_token, url, params)}


@schema.parametrize()
@schema.given(data=st.data())
@FUZZ_SETTINGS
def test_no_request_fails_and_every_refusal_is_a_4xx_in_our_shape(
    case: schemathesis.Case,
    data: st.DataObject,
    seeded: Seeded,
    fuzzed_app: FastAPI,
    settings: Settings,
    firm: StaffLogin,
) -> None:
    swap_in_existing(case, seeded, data)
    if case.path.startswith("/webhooks/"):
        # A value schemathesis made invalid on purpose reaches the app as it made it:
        # swapped for a valid one, or signed where the signature was left out, a request
        # it still counts as invalid would be valid, and rightly accepted.
        invalid_form = case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY)
        unsigned = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        if isinstance(case.body, dict) and not invalid_form:
            for name, value in seeded.inbound.items():
                if name in case.body and data.draw(st.booleans()):
                    case.body[name] = value
        # Signed whenever the form is invalid, so that the check of the form is reached.
        headers = signed_as_twilio(case, settings) if invalid_form or not unsigned else {}
        excluded = []
    else:
        headers = firm.headers
        # The staff API judges more than a schema can say (a blank name after
        # trimming, a number that cannot take texts): valid by schema is not accepted.
        excluded = [schemathesis.checks.positive_data_acceptance]
    case.call_and_validate(
        app=fuzzed_app,
        headers=headers,
        excluded_checks=excluded,
        additional_checks=[refusals_carry_the_error_shape],
    )
