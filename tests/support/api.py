"""Short ways to set the scene through the public API, as an integration would."""

from __future__ import annotations

from typing import Any

import httpx


async def post(api: httpx.AsyncClient, path: str, headers: dict[str, str], **body: Any) -> Any:
    response = await api.post(f"/api/v1{path}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def new_contact(
    api: httpx.AsyncClient, headers: dict[str, str], name: str, **fields: Any
) -> Any:
    return await post(api, "/contacts", headers, name=name, **fields)


async def new_conversation(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    contacts: list[Any],
    subject: str = "Probate documents",
    title: str = "Whitfield estate",
) -> Any:
    matter = await post(api, "/matters", headers, title=title, reference="HM-1")
    return await post(
        api,
        "/conversations",
        headers,
        matter_id=matter["id"],
        subject=subject,
        participant_ids=[c["id"] for c in contacts],
    )


async def messages_of(
    api: httpx.AsyncClient, headers: dict[str, str], conversation: dict[str, Any]
) -> list[dict[str, Any]]:
    """A conversation's messages, oldest first, as staff read them."""
    listed = await api.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=headers)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])
