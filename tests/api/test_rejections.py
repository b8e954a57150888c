"""Bad requests get a clear error with the right status, and nothing is half-written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parley.db.models import Contact, Conversation, ConversationParticipant, Message
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation


async def count(ctx: ServiceContext, model: Any) -> int:
    async with ctx.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Sign in"),
        ({"Authorization": "Bearer pk_not-a-real-token"}, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Sign in"),
    ],
    ids=["no token", "wrong token", "not a bearer token"],
)
async def test_requests_without_a_valid_token_are_401(
    api: httpx.AsyncClient, firm: StaffLogin, headers: dict[str, str], message: str
) -> None:
    response = await api.get("/api/v1/conversations", headers=headers)
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("12345", "not a valid phone number"),
        ("call me", "not a phone number"),
        ("+442079460000", "landline"),
        ("+18005550199", "toll-free"),
        ("+15551234567", "not a valid phone number"),
    ],
)
async def test_contact_with_a_number_that_cannot_take_texts_is_422(
    api: httpx.AsyncClient, firm: StaffLogin, ctx: ServiceContext, number: str, says: str
) -> None:
    response = await api.post(
        "/api/v1/contacts", json={"name": "Dana", "mobile_phone": number}, headers=firm.headers
    )
    assert response.status_code == 422
    assert says in response.json()["error"]["message"]
    assert response.json()["error"]["field"] == "mobile_phone"
    assert await count(ctx, Contact) == 0


@pytest.mark.parametrize(
    ("body", "says"),
    [("", "empty"), ("   \n\t ", "empty"), ("x" * 10_001, "10,001 characters")],
    ids=["empty", "blank", "too long"],
)
async def test_message_body_outside_1_to_10000_characters_is_422(
    api: httpx.AsyncClient, firm: StaffLogin, ctx: ServiceContext, body: str, says: str
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    response = await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"body": body},
        headers=firm.headers,
    )
    assert response.status_code == 422
    assert says in response.json()["error"]["message"]
    assert await count(ctx, Message) == 0


async def test_body_of_exactly_10000_characters_is_accepted(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    response = await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"body": "x" * 10_000},
        headers=firm.headers,
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/contacts", {"name": "Dana", "nickname": "D"}),
        ("/matters", {"title": "Estate", "owner": "me"}),
        (
            "/conversations",
            {
                "matter_id": str(uuid.uuid4()),
                "subject": "S",
                "participant_ids": [],
                "private": True,
            },
        ),
    ],
)
async def test_unknown_fields_are_rejected_by_name(
    api: httpx.AsyncClient, firm: StaffLogin, path: str, body: dict[str, Any]
) -> None:
    response = await api.post(f"/api/v1{path}", json=body, headers=firm.headers)
    assert response.status_code == 422
    assert "Unknown field" in response.json()["error"]["message"]


async def test_unknown_field_on_a_message_is_rejected(
    api: httpx.AsyncClient, firm: StaffLogin, ctx: ServiceContext
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    response = await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"body": "Hello", "send_as_sms": False, "urgent": True},
        headers=firm.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Unknown field 'urgent'."
    assert await count(ctx, Message) == 0


async def test_malformed_json_is_422_with_a_plain_message(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    response = await api.post(
        "/api/v1/contacts",
        content=b'{"name": ',
        headers=firm.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]["message"]


async def test_conversation_with_an_unknown_participant_writes_nothing(
    api: httpx.AsyncClient, firm: StaffLogin, ctx: ServiceContext
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    matter = (
        await api.post("/api/v1/matters", json={"title": "Estate"}, headers=firm.headers)
    ).json()
    response = await api.post(
        "/api/v1/conversations",
        json={
            "matter_id": matter["id"],
            "subject": "Documents",
            "participant_ids": [dana["id"], str(uuid.uuid4())],
        },
        headers=firm.headers,
    )
    assert response.status_code == 404
    assert await count(ctx, Conversation) == 0
    assert await count(ctx, ConversationParticipant) == 0


async def test_a_bad_cursor_is_422(api: httpx.AsyncClient, firm: StaffLogin) -> None:
    response = await api.get(
        "/api/v1/conversations", params={"cursor": "bm9wZQ"}, headers=firm.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"
