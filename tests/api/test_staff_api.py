"""Creating and reading contacts, matters, conversations and messages through the API."""

from __future__ import annotations

import httpx

from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.clock import TestClock


async def test_contact_is_created_with_its_mobile_in_e164(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    created = await new_contact(
        api, firm.headers, "Dana Whitfield", email="dana@example.com", mobile_phone="(202) 555-0142"
    )
    fetched = await api.get(f"/api/v1/contacts/{created['id']}", headers=firm.headers)
    assert fetched.status_code == 200
    assert fetched.json()["mobile_phone"] == "+12025550142"
    assert fetched.json()["name"] == "Dana Whitfield"
    assert fetched.json()["sms_opted_out"] is False


async def test_conversation_shows_its_matter_and_participants(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    dana = await new_contact(api, firm.headers, "Dana Whitfield")
    lee = await new_contact(api, firm.headers, "Lee Whitfield")
    conversation = await new_conversation(api, firm.headers, [dana, lee])
    assert conversation["matter"]["title"] == "Whitfield estate"
    assert [p["name"] for p in conversation["participants"]] == ["Dana Whitfield", "Lee Whitfield"]


async def test_conversations_list_latest_activity_first(
    api: httpx.AsyncClient, firm: StaffLogin, clock: TestClock
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    first = await new_conversation(api, firm.headers, [dana], subject="First")
    second = await new_conversation(api, firm.headers, [dana], subject="Second")
    clock.advance(minutes=5)
    await post(api, f"/conversations/{first['id']}/messages", firm.headers, body="News")

    listed = await api.get("/api/v1/conversations", headers=firm.headers)
    assert [c["subject"] for c in listed.json()["items"]] == ["First", "Second"]
    assert second["id"] != first["id"]


async def test_conversation_list_pages_without_gaps_or_repeats(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    subjects = {f"Subject {i}" for i in range(5)}
    for subject in sorted(subjects):
        await new_conversation(api, firm.headers, [dana], subject=subject)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/api/v1/conversations", params=params, headers=firm.headers)).json()
        seen += [c["subject"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(subjects)
    assert seen == sorted(subjects, reverse=True)


async def test_messages_list_oldest_first_with_author(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    path = f"/conversations/{conversation['id']}/messages"
    for body in ("one", "two", "three"):
        await post(api, path, firm.headers, body=body)
    listed = (await api.get(f"/api/v1{path}", headers=firm.headers)).json()
    assert [m["body"] for m in listed["items"]] == ["one", "two", "three"]
    assert listed["items"][0]["author"]["type"] == "staff"
    assert listed["items"][0]["channel"] == "portal"


async def test_message_pages_follow_the_cursor(api: httpx.AsyncClient, firm: StaffLogin) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    for i in range(3):
        await api.post(path, json={"body": f"m{i}"}, headers=firm.headers)
    first = (await api.get(path, params={"limit": 2}, headers=firm.headers)).json()
    rest = (
        await api.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=firm.headers
        )
    ).json()
    assert [m["body"] for m in first["items"] + rest["items"]] == ["m0", "m1", "m2"]
    assert rest["next_cursor"] is None


async def test_send_as_sms_is_stored_on_the_message(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    dana = await new_contact(api, firm.headers, "Dana")
    conversation = await new_conversation(api, firm.headers, [dana])
    posted = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="  Your documents are ready.  ",
        send_as_sms=True,
    )
    fetched = (await api.get(f"/api/v1/messages/{posted['id']}", headers=firm.headers)).json()
    assert fetched["send_as_sms"] is True
    assert fetched["body"] == "Your documents are ready."


async def test_openapi_docs_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/docs")).status_code == 200
    schema = (await api.get("/openapi.json")).json()
    assert "/api/v1/conversations/{conversation_id}/messages" in schema["paths"]


async def test_healthz_answers_when_the_database_does(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
