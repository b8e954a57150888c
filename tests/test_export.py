"""`parley export --matter`, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.services.context import ServiceContext
from tests.conftest import StaffLogin
from tests.outbound.test_status_callbacks import callback
from tests.support.api import new_contact, new_conversation, post
from tests.support.twilio_webhooks import text_in
from tests.test_cli import run

DANA = "+12025550142"
LEE = "+12025550143"
REPLY = "Thanks — I'll sign on Friday 👍"
PHOTO = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")
SID = "SM" + "c" * 32


async def export(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    # The CLI blocks; run it off the event loop the app under test shares.
    return await asyncio.to_thread(run, ["export", *args], database_url)


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


@pytest.fixture
async def matter(api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin) -> dict[str, Any]:
    """A matter with two conversations: a delivered text answered by plain text, and one
    text still in transit. Another matter of the firm must stay out of the export."""
    dana = await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone=DANA)
    lee = await new_contact(api, firm.headers, "Lee Whitfield", mobile_phone=LEE)
    created = await post(api, "/matters", firm.headers, title="Whitfield estate", reference="HM-1")
    probate, lease = [
        await post(
            api,
            "/conversations",
            firm.headers,
            matter_id=created["id"],
            subject=subject,
            participant_ids=[who["id"]],
        )
        for subject, who in (("Probate", dana), ("Lease", lee))
    ]
    texted = await post(
        api,
        f"/conversations/{probate['id']}/messages",
        firm.headers,
        body="Your documents are ready.",
        send_as_sms=True,
    )
    for status in ("queued", "sent", "delivered"):
        response = await callback(api, ctx, texted["sms"][0]["delivery_id"], status, sid=SID)
        assert response.status_code == 204
    reply = await text_in(
        api, ctx, from_=DANA, to=firm.sms_number, body=REPLY, sid="SM" + "d" * 32, media=[PHOTO]
    )
    assert reply.status_code == 200
    pending = await post(
        api,
        f"/conversations/{lease['id']}/messages",
        firm.headers,
        body="Lease renewal attached.",
        send_as_sms=True,
    )
    elsewhere = await new_conversation(api, firm.headers, [dana], title="Unrelated matter")
    return {
        "id": created["id"],
        "probate": probate,
        "lease": lease,
        "texted": texted,
        "pending": pending,
        "elsewhere": elsewhere,
    }


async def test_export_holds_the_delivery_history_and_the_raw_reply_verbatim(
    database_url: str, firm: StaffLogin, matter: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "matter.json"
    done = await export(
        "--matter", matter["id"], "--output", str(target), database_url=database_url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    document = json.loads(target.read_text(encoding="utf-8"))

    assert document["matter"]["id"] == matter["id"]
    assert document["matter"]["title"] == "Whitfield estate"
    assert document["matter"]["reference"] == "HM-1"
    assert document["matter"]["firm"] == {"id": str(firm.scope.firm_id), "name": "Hale & Marsh LLP"}
    probate, lease = document["conversations"]
    assert (probate["id"], lease["id"]) == (matter["probate"]["id"], matter["lease"]["id"])
    assert matter["elsewhere"]["id"] not in json.dumps(document)
    assert [p["name"] for p in probate["participants"]] == ["Dana Whitfield"]

    texted, reply = probate["messages"]
    assert texted["id"] == matter["texted"]["id"]
    assert texted["author"] == {"type": "staff", "id": str(firm.scope.staff_id), "name": "avery"}
    assert texted["channel"] == "portal"
    (sms,) = texted["sms"]
    assert (sms["status"], sms["provider_id"], sms["to_number"]) == ("delivered", SID, DANA)
    assert [e["provider_status"] for e in sms["events"]] == ["queued", "sent", "delivered"]
    received = [utc(e["received_at"]) for e in sms["events"]]
    assert received == sorted(received)
    assert "body" not in sms  # it carries the recipient's live reply link

    assert reply["body"] == REPLY
    assert reply["channel"] == "sms"
    assert reply["in_reply_to_id"] == texted["id"]
    assert reply["author"]["name"] == "Dana Whitfield"
    assert reply["media"] == [{"url": PHOTO[0], "content_type": PHOTO[1]}]
    (raw,) = probate["inbound_texts"]
    assert raw["message_id"] == reply["id"]
    assert (raw["provider_id"], raw["from_number"], raw["to_number"]) == (
        "SM" + "d" * 32,
        DANA,
        firm.sms_number,
    )
    assert raw["body"] == REPLY
    assert raw["params"]["Body"] == REPLY
    assert raw["params"]["MediaUrl0"] == PHOTO[0]
    assert raw["media"] == [{"url": PHOTO[0], "content_type": PHOTO[1]}]
    utc(raw["received_at"])

    (pending,) = lease["messages"]
    (in_transit,) = pending["sms"]
    assert (in_transit["status"], in_transit["events"]) == ("sending", [])
    assert lease["inbound_texts"] == []

    for conversation in (probate, lease):
        (entry,) = conversation["audit"]
        assert entry["action"] == "message_sent"
        assert entry["staff"] == {"id": str(firm.scope.staff_id), "name": "avery"}
        utc(entry["at"])


async def test_export_writes_to_standard_output_by_default(
    database_url: str, matter: dict[str, Any]
) -> None:
    done = await export("--matter", matter["id"], database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["matter"]["id"] == matter["id"]


async def test_an_unknown_or_malformed_matter_id_exits_1_saying_which(database_url: str) -> None:
    unknown = str(uuid.uuid4())
    missing = await export("--matter", unknown, database_url=database_url)
    assert missing.returncode == 1
    assert unknown in missing.stderr
    assert missing.stdout == ""

    garbled = await export("--matter", "HM-1", database_url=database_url)
    assert garbled.returncode == 1
    assert "HM-1" in garbled.stderr
