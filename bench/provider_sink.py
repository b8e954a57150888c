"""A provider that answers at once, in Twilio's formats, and remembers what it took.

The dispatch benchmarks point the production Twilio adapter here so they measure
Parley, not a carrier. It remembers when each text arrived, from which number, so
the benchmark can check that each number was held to its rate; and it answers the
list and fetch calls the dispatcher makes after a failed attempt (is the text there
already?) and reconciliation makes (what became of it?), as Twilio would.
"""

from __future__ import annotations

import time
import uuid
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

arrivals: list[tuple[float, str, str]] = []  # (unix time, From, To)
messages: dict[str, dict[str, Any]] = {}  # by sid, in the order taken


async def create_message(request: Request) -> JSONResponse:
    form = await request.form()
    now = time.time()
    arrivals.append((now, str(form["From"]), str(form["To"])))
    sid = "SM" + uuid.uuid4().hex
    messages[sid] = {
        "sid": sid,
        "status": "queued",
        "from": form["From"],
        "to": form["To"],
        "body": form["Body"],
        "num_segments": "1",
        "error_code": None,
        "error_message": None,
        "date_created": formatdate(now, usegmt=True),
    }
    return JSONResponse(messages[sid], status_code=201)


async def list_messages(request: Request) -> JSONResponse:
    to, sender = request.query_params.get("To"), request.query_params.get("From")
    found = [m for m in reversed(messages.values()) if m["to"] == to and m["from"] == sender][:100]
    return JSONResponse({"messages": found, "next_page_uri": None})


async def fetch_message(request: Request) -> JSONResponse:
    message = messages.get(request.path_params["sid"])
    if message is None:
        return JSONResponse({"code": 20404, "message": "Not Found", "status": 404}, 404)
    return JSONResponse({**message, "status": "delivered"})


async def stats(_: Request) -> JSONResponse:
    return JSONResponse({"arrivals": arrivals})


async def count(_: Request) -> JSONResponse:
    # Polled while the workers run: a count, not the whole list, costs the sink nothing.
    return JSONResponse({"arrivals": len(arrivals)})


async def reset(_: Request) -> JSONResponse:
    arrivals.clear()
    messages.clear()
    return JSONResponse({})


MESSAGES = "/2010-04-01/Accounts/{account}/Messages"
app = Starlette(
    routes=[
        Route(MESSAGES + ".json", create_message, methods=["POST"]),
        Route(MESSAGES + ".json", list_messages, methods=["GET"]),
        Route(MESSAGES + "/{sid}.json", fetch_message, methods=["GET"]),
        Route("/stats", stats),
        Route("/count", count),
        Route("/reset", reset, methods=["POST"]),
    ]
)
