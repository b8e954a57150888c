"""The bare minimum of each benchmarked path: Starlette, asyncpg, nothing else.

Each route does only the work no implementation can skip (parse the request, check
Twilio's signature with the same validator, one indexed write; or one indexed read, on
a person's first visit one indexed write, and an escaped page), so Parley's figures
divided by these say what Parley's layers cost, on the same machine, in the same run.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import os
import sys
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from parley.process import configure_logging

PUBLIC_URL = os.environ["PARLEY_PUBLIC_URL"].rstrip("/")
validator = RequestValidator(os.environ["PARLEY_TWILIO_AUTH_TOKEN"])
pool: asyncpg.Pool


class Form(dict[str, str]):
    def getall(self, name: str) -> list[str]:  # read as a multi-dict: no failed lookups
        return [self[name]]


async def signed_form(request: Request) -> dict[str, str] | None:
    params = Form(urllib.parse.parse_qsl((await request.body()).decode("latin-1")))
    url = PUBLIC_URL + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # One signature, for the URL as configured: the least any check can compute.
    expected = validator.compute_signature(url, params).encode()
    if not hmac.compare_digest(expected, request.headers.get("X-Twilio-Signature", "").encode()):
        return None
    return params


async def status_callback(request: Request) -> Response:
    params = await signed_form(request)
    if params is None:
        return PlainTextResponse("forbidden", status_code=403)
    await pool.execute(
        "UPDATE sms_deliveries SET status = $2 WHERE provider_id = $1",
        params["MessageSid"],
        params["MessageStatus"],
    )
    return Response(status_code=204)


async def inbound_text(request: Request) -> Response:
    params = await signed_form(request)
    if params is None:
        return PlainTextResponse("forbidden", status_code=403)
    await pool.execute(
        """INSERT INTO inbound_texts (id, provider_id, from_number, to_number, body, media,
                                      params, received_at)
           VALUES ($1, $2, $3, $4, $5, '[]', '{}', now()) ON CONFLICT DO NOTHING""",
        uuid.uuid4(),
        params["MessageSid"],
        params["From"],
        params["To"],
        params.get("Body", ""),
    )
    return Response("<Response/>", media_type="application/xml")


async def reply_page(request: Request) -> Response:
    token_hash = hashlib.sha256(request.path_params["token"].encode()).hexdigest()
    rows = await pool.fetch(
        """SELECT l.id, l.opened_at, m.body
           FROM reply_links l JOIN messages m ON m.conversation_id = l.conversation_id
           WHERE l.token_hash = $1 ORDER BY m.created_at DESC LIMIT 10""",
        token_hash,
    )
    if not rows:
        return PlainTextResponse("not found", status_code=404)
    if rows[0]["opened_at"] is None:  # a person's first visit: the time staff see
        await pool.execute(
            "UPDATE reply_links SET opened_at = now() WHERE id = $1 AND opened_at IS NULL",
            rows[0]["id"],
        )
    items = "".join(f"<li>{html.escape(row['body'])}</li>" for row in rows)
    return HTMLResponse(f"<!doctype html><title>Reply</title><ol>{items}</ol><form></form>")


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    return None


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    # No reset query when a connection goes back: these routes change no session
    # state, and asyncpg's default reset is a round trip on every request.
    pool = await asyncpg.create_pool(
        os.environ["BASELINE_DSN"], min_size=10, max_size=10, reset=_nothing_to_reset
    )
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/webhooks/twilio/status", status_callback, methods=["POST"]),
        Route("/webhooks/twilio/inbound", inbound_text, methods=["POST"]),
        Route("/r/{token}", reply_page),
    ],
    lifespan=lifespan,
)


if __name__ == "__main__":
    # Served and logged as `parley serve` is (parley/cli.py), so that the ratio leaves
    # out neither the server's work nor the line each request writes to the log.
    configure_logging()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None)
