"""The webhooks' form parser reads every body as Starlette's own form parser would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.datastructures import Headers
from starlette.formparsers import FormParser

from parley.web.webhooks.twilio import FORM, form_fields


async def starlette_reads(body: bytes) -> dict[str, str]:
    async def stream() -> AsyncIterator[bytes]:
        yield body
        yield b""

    form = await FormParser(Headers({"content-type": FORM}), stream()).parse()
    return {key: str(value) for key, value in form.items()}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"MessageSid=SM1&MessageStatus=sent", {"MessageSid": "SM1", "MessageStatus": "sent"}),
        (b"Body=&NumMedia", {"Body": "", "NumMedia": ""}),
        (b"Body=caf%C3%A9+at+10", {"Body": "café at 10"}),
        (b"Body=caf\xc3\xa9", {"Body": "caf\u00c3\u00a9"}),
        (b"Body=%F0%9F%91%8D", {"Body": "\U0001f44d"}),
        (b"To=1&To=2", {"To": "2"}),
        (b"x=%ZZ&y=%E9", {"x": "%ZZ", "y": "\ufffd"}),
        (b"&&Body=a%26b%3Dc&&", {"Body": "a&b=c"}),
        (b"Body=a+b%2Bc;d=e", {"Body": "a b+c;d=e"}),
        (b"", {}),
        (b"From=%2B14155550100&To=%2B1415+555", {"From": "+14155550100", "To": "+1415 555"}),
        (b"Body=%C3\xa9+%C3%A9", {"Body": "\ufffd\u00a9 \u00e9"}),
        (b"Body=\xe9%2", {"Body": "\u00e9%2"}),
        (b"Body=50%&%41=%", {"Body": "50%", "A": "%"}),
        (b"=v&a==b", {"": "v", "a": "=b"}),
    ],
)
async def test_form_fields_match_starlettes_form_parser(
    body: bytes, fields: dict[str, str]
) -> None:
    assert form_fields(body) == fields
    assert await starlette_reads(body) == fields
