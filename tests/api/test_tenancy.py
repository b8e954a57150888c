"""Nothing of one firm is ever visible to another: every route, by construction.

`ROUTES` must name every route of the staff API; `test_every_api_route_is_covered`
fails when a new route is added without a row here, so no route can forget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from parley.services.context import ServiceContext
from parley.web.app import create_app
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.twilio_webhooks import text_in


@dataclass(frozen=True)
class FirstFirm:
    contact: dict[str, Any]
    matter: dict[str, Any]
    conversation: dict[str, Any]
    message: dict[str, Any]
    inbox_item: dict[str, Any]


Probe = Callable[[httpx.AsyncClient, FirstFirm, dict[str, str]], Awaitable[None]]


def expects_404(method: str, path: str, body: Callable[[FirstFirm], Any] | None = None) -> Probe:
    async def probe(api: httpx.AsyncClient, first: FirstFirm, headers: dict[str, str]) -> None:
        url = "/api/v1" + path.format(first=first)
        response = await api.request(
            method, url, json=body(first) if body else None, headers=headers
        )
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["code"] == "not_found"

    return probe


def lists_nothing_of_the_first_firm(path: str) -> Probe:
    async def probe(api: httpx.AsyncClient, first: FirstFirm, headers: dict[str, str]) -> None:
        response = await api.get("/api/v1" + path, headers=headers)
        assert response.status_code == 200
        assert response.json()["items"] == []

    return probe


def creates_nothing_from_the_first_firm(path: str, body: Callable[[FirstFirm], Any]) -> Probe:
    return expects_404("POST", path, body)


def creates_its_own(path: str, body: dict[str, Any]) -> Probe:
    # A create route with no reference to another row cannot reach another firm's data;
    # the probe shows the created row is the second firm's own and invisible to the first.
    async def probe(api: httpx.AsyncClient, first: FirstFirm, headers: dict[str, str]) -> None:
        response = await api.post("/api/v1" + path, json=body, headers=headers)
        assert response.status_code == 201

    return probe


ROUTES: dict[tuple[str, str], Probe] = {
    ("POST", "/api/v1/contacts"): creates_its_own("/contacts", {"name": "Someone"}),
    ("GET", "/api/v1/contacts/{contact_id}"): expects_404("GET", "/contacts/{first.contact[id]}"),
    ("POST", "/api/v1/matters"): creates_its_own("/matters", {"title": "Theirs"}),
    ("GET", "/api/v1/matters/{matter_id}"): expects_404("GET", "/matters/{first.matter[id]}"),
    ("POST", "/api/v1/conversations"): creates_nothing_from_the_first_firm(
        "/conversations",
        lambda f: {
            "matter_id": f.matter["id"],
            "subject": "Hijack",
            "participant_ids": [f.contact["id"]],
        },
    ),
    ("GET", "/api/v1/conversations"): lists_nothing_of_the_first_firm("/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}"): expects_404(
        "GET", "/conversations/{first.conversation[id]}"
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/audit"): expects_404(
        "GET", "/conversations/{first.conversation[id]}/audit"
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): expects_404(
        "GET", "/conversations/{first.conversation[id]}/messages"
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): expects_404(
        "POST", "/conversations/{first.conversation[id]}/messages", lambda f: {"body": "Hi"}
    ),
    ("GET", "/api/v1/messages/{message_id}"): expects_404("GET", "/messages/{first.message[id]}"),
    ("POST", "/api/v1/messages/{message_id}/resend-sms"): expects_404(
        "POST", "/messages/{first.message[id]}/resend-sms"
    ),
    ("GET", "/api/v1/inbox"): lists_nothing_of_the_first_firm("/inbox"),
    ("POST", "/api/v1/inbox/{item_id}/assign"): expects_404(
        "POST",
        "/inbox/{first.inbox_item[id]}/assign",
        lambda f: {"conversation_id": f.conversation["id"]},
    ),
}


def test_every_api_route_is_covered() -> None:
    paths = create_app().openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    }
    assert routes == set(ROUTES)


@pytest.fixture
async def first_firm(api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin) -> FirstFirm:
    contact = await new_contact(api, firm.headers, "Dana", mobile_phone="+12025550142")
    conversation = await new_conversation(api, firm.headers, [contact])
    message = await post(
        api, f"/conversations/{conversation['id']}/messages", firm.headers, body="Private"
    )
    await text_in(api, ctx, from_="+12025550999", to=firm.sms_number, body="Held")
    (held,) = (await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"]
    return FirstFirm(contact, conversation["matter"], conversation, message, held)


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_other_firm_cannot_reach_the_first_firms_rows(
    api: httpx.AsyncClient,
    first_firm: FirstFirm,
    other_firm: StaffLogin,
    route: tuple[str, str],
) -> None:
    await ROUTES[route](api, first_firm, other_firm.headers)
