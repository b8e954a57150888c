"""The simulator's HTTP face: Twilio's Messages API, and a small API for the phones.

Paths, parameters, JSON shapes and error bodies follow Twilio's official description
(../shared/reference/twilio), so the production adapter, or Twilio's own client,
cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import phonenumbers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from parley.domain.segments import count_segments
from parley.providers.twilio.signature import sign
from parley.simulator.carrier import Carrier
from parley.simulator.phones import PhonesPage
from parley.simulator.state import (
    CreateRequest,
    Outcome,
    PhoneText,
    SimMessage,
    SimulatorState,
    monotonic,
    new_sid,
    now,
)

API = "/2010-04-01/Accounts/{account_sid}"

# Twilio's magic test numbers: what Twilio answers when its test credentials text them.
MAGIC_NUMBERS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
}


@dataclass(frozen=True)
class SimulatorConfig:
    account_sid: str
    auth_token: str
    callback_delay_seconds: float = 0.3
    inbound_webhook_url: str | None = None
    transport: httpx.AsyncBaseTransport | None = None


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def rfc2822(moment: Any) -> str | None:
    return email.utils.format_datetime(moment) if moment is not None else None


def resource(message: SimMessage) -> dict[str, Any]:
    uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}.json"
    return {
        "account_sid": message.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": rfc2822(message.date_created),
        "date_sent": rfc2822(message.date_sent),
        "date_updated": rfc2822(message.date_updated),
        "direction": message.direction,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "from": message.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": message.to,
        "uri": uri,
    }


class Simulator:
    def __init__(self, config: SimulatorConfig, state: SimulatorState) -> None:
        self.config = config
        self.state = state
        self.carrier = Carrier(
            state,
            auth_token=config.auth_token,
            step_seconds=config.callback_delay_seconds,
            transport=config.transport,
        )

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            user == self.config.account_sid
            and password == self.config.auth_token
            and request.path_params["account_sid"] == user
        )

    def refusal(self, request: Request) -> JSONResponse | None:
        if self.state.mode == "unavailable":
            return twilio_error(503, 20503, "Service unavailable")
        if self.state.mode == "rate_limited":
            response = twilio_error(429, 20429, "Too Many Requests")
            response.headers["Retry-After"] = str(self.state.retry_after)
            return response
        if not self.authorized(request):
            return twilio_error(401, 20003, "Authenticate")
        return None

    async def create(self, request: Request) -> Response:
        form = await request.form()
        to, sender, body = (str(form.get(k, "")) for k in ("To", "From", "Body"))
        response = self.refusal(request) or self.invalid(to, sender, body)
        if response is None:
            message = self.accept(to, sender, body, form.get("StatusCallback"))
            response = JSONResponse(resource(message), status_code=201)
            if self.state.response_delay:
                # Accepted, but the answer is late: the sender may die before hearing it.
                await asyncio.sleep(self.state.response_delay)
        self.state.create_requests.append(
            CreateRequest(monotonic(), to, sender, response.status_code)
        )
        return response

    def invalid(self, to: str, sender: str, body: str) -> JSONResponse | None:
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if to in MAGIC_NUMBERS:
            return twilio_error(400, *MAGIC_NUMBERS[to])
        try:
            valid = phonenumbers.is_possible_number(phonenumbers.parse(to, None))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        return None

    def accept(self, to: str, sender: str, body: str, callback: Any) -> SimMessage:
        moment = now()
        message = SimMessage(
            sid=new_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=sender,
            body=body,
            status="queued",
            direction="outbound-api",
            num_segments=count_segments(body).segments,
            date_created=moment,
            date_updated=moment,
            status_callback=str(callback) if callback else None,
        )
        self.state.messages[message.sid] = message
        self.state.receive_on_phone(to, PhoneText(message.sid, sender, body, False, moment))
        self.carrier.carry(message)
        return message

    async def fetch(self, request: Request) -> Response:
        sid = request.path_params["sid"]
        self.state.fetch_requests.append(sid)
        if refused := self.refusal(request):
            return refused
        message = self.state.messages.get(sid)
        if message is None:
            return twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return JSONResponse(resource(message))

    async def list(self, request: Request) -> Response:
        if refused := self.refusal(request):
            return refused
        query = request.query_params
        found = [
            m
            for m in reversed(self.state.messages.values())
            if (not query.get("To") or m.to == query["To"])
            and (not query.get("From") or m.from_ == query["From"])
            and _sent_on(m, query)
        ]
        size = max(1, min(int(query.get("PageSize", "50")), 1000))
        page = int(query.get("Page", "0"))
        items = found[page * size : (page + 1) * size]
        path = f"/2010-04-01/Accounts/{self.config.account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            params = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}
            return f"{path}?{urlencode(params | {'PageSize': size, 'Page': number})}"

        last_page = max(0, math.ceil(len(found) / size) - 1)
        return JSONResponse(
            {
                "messages": [resource(m) for m in items],
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(items) - 1, 0),
                "uri": page_uri(page),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if page < last_page else None,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            }
        )

    async def text_from_phone(self, phone: str, firm_number: str, body: str) -> httpx.Response:
        """The phone texts the firm: Twilio's inbound webhook, signed, to the firm's URL."""
        if not self.config.inbound_webhook_url:
            raise RuntimeError("the simulator has no inbound webhook URL to text")
        sid = new_sid()
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.config.account_sid,
            "From": phone,
            "To": firm_number,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(count_segments(body).segments),
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        url = self.config.inbound_webhook_url
        self.state.receive_on_phone(phone, PhoneText(sid, firm_number, body, True, now()))
        headers = {"X-Twilio-Signature": sign(self.config.auth_token, url, params)}
        response = await self.carrier.http.post(url, data=params, headers=headers)
        for reply in _twiml_messages(response.text):
            self.state.receive_on_phone(
                phone, PhoneText(new_sid(), firm_number, reply, False, now())
            )
        return response

    async def inbound(self, request: Request) -> Response:
        data = await request.json()
        answer = await self.text_from_phone(str(data["from"]), str(data["to"]), str(data["body"]))
        return JSONResponse({"status": answer.status_code, "twiml": answer.text})

    async def phones(self, _: Request) -> Response:
        return JSONResponse(
            {
                phone: [
                    {
                        "sid": t.sid,
                        "firm_number": t.firm_number,
                        "body": t.body,
                        "outgoing": t.outgoing,
                        "at": t.at.isoformat(),
                    }
                    for t in texts
                ]
                for phone, texts in self.state.phones.items()
            }
        )

    async def set_outcome(self, request: Request) -> Response:
        data = await request.json()
        outcome = Outcome(
            kind=data.get("kind", "deliver"),
            error_code=int(data.get("error_code", 30003)),
            slow_factor=float(data.get("slow_factor", 20.0)),
        )
        self.state.set_outcome(request.path_params["number"], outcome)
        return Response(status_code=204)


def _sent_on(message: SimMessage, query: Any) -> bool:
    sent = message.date_sent.date().isoformat() if message.date_sent else None
    if query.get("DateSent") and sent != query["DateSent"]:
        return False
    if query.get("DateSent>") and (sent is None or sent < query["DateSent>"]):
        return False
    return not (query.get("DateSent<") and (sent is None or sent > query["DateSent<"]))


def _twiml_messages(twiml: str) -> list[str]:
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return []
    return [(element.text or "").strip() for element in root.iter("Message")]


def _file(path: Path, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    content = path.read_bytes()

    async def serve(_: Request) -> Response:
        return Response(content, media_type=media_type)

    return serve


def create_simulator_app(config: SimulatorConfig, state: SimulatorState | None = None) -> Starlette:
    simulator = Simulator(config, state or SimulatorState())
    phones = PhonesPage(simulator)
    assets = Path(__file__).parent / "templates"
    app = Starlette(
        routes=[
            Route("/phones", phones.show, methods=["GET"]),
            Route("/phones/{number}/text", phones.text, methods=["POST"]),
            Route("/phones/{number}/outcome", phones.outcome, methods=["POST"]),
            Route("/phones.js", _file(assets / "phones.js", "text/javascript")),
            Route("/phones.css", _file(assets / "phones.css", "text/css")),
            Route(f"{API}/Messages.json", simulator.create, methods=["POST"]),
            Route(f"{API}/Messages.json", simulator.list, methods=["GET"]),
            Route(API + "/Messages/{sid}.json", simulator.fetch, methods=["GET"]),
            Route("/api/inbound", simulator.inbound, methods=["POST"]),
            Route("/api/phones", simulator.phones, methods=["GET"]),
            Route("/api/phones/{number}/outcome", simulator.set_outcome, methods=["PUT"]),
        ]
    )
    app.state.simulator = simulator
    return app
