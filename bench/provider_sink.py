"""A provider that answers at once: Twilio's create-message reply, nothing else.

The dispatch benchmarks point the production Twilio adapter here so they measure
Parley, not a carrier. It remembers when each text arrived, from which number, so
the benchmark can check that each number was held to its rate.
"""

from __future__ import annotations

import time
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

arrivals: list[tuple[float, str, str]] = []  # (unix time, From, To)


async def create_message(request: Request) -> JSONResponse:
    form = await request.form()
    arrivals.append((time.time(), str(form["From"]), str(form["To"])))
    return JSONResponse(
        {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "queued",
            "from": form["From"],
            "to": form["To"],
            "body": form["Body"],
            "num_segments": "1",
            "error_code": None,
            "error_message": None,
        },
        status_code=201,
    )


async def stats(_: Request) -> JSONResponse:
    return JSONResponse({"arrivals": arrivals})


async def reset(_: Request) -> JSONResponse:
    arrivals.clear()
    return JSONResponse({})


app = Starlette(
    routes=[
        Route("/2010-04-01/Accounts/{account}/Messages.json", create_message, methods=["POST"]),
        Route("/stats", stats),
        Route("/reset", reset, methods=["POST"]),
    ]
)
