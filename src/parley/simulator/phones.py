"""The phone simulator page: one simulated phone per number, for people to try Parley."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from parley.simulator.state import Outcome

if TYPE_CHECKING:
    from parley.simulator.app import Simulator

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
_URL = re.compile(r"(https?://\S+)")


def with_links(body: str) -> list[tuple[str, bool]]:
    """The text in pieces, each marked True when it is a link to make clickable."""
    return [(piece, bool(_URL.fullmatch(piece))) for piece in _URL.split(body) if piece]


class PhonesPage:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    async def show(self, request: Request) -> Response:
        state = self.simulator.state
        phones = sorted(state.phones)
        return TEMPLATES.TemplateResponse(
            request,
            "phones.html",
            {
                "phones": [
                    {
                        "number": number,
                        "texts": state.phones[number],
                        "firm_number": next(
                            (t.firm_number for t in reversed(state.phones[number])), ""
                        ),
                        "outcome": state.outcome_for(number),
                    }
                    for number in phones
                ],
                "with_links": with_links,
                "root": request.scope.get("root_path", ""),
            },
        )

    async def text(self, request: Request) -> Response:
        form = await request.form()
        phone = str(form.get("phone") or request.path_params.get("number", "")).strip()
        firm_number = str(form.get("to", "")).strip()
        body = str(form.get("body", "")).strip()
        if phone and firm_number and body:
            await self.simulator.text_from_phone(phone, firm_number, body)
        return self._back(request)

    async def outcome(self, request: Request) -> Response:
        form = await request.form()
        self.simulator.state.set_outcome(
            request.path_params["number"],
            Outcome(
                kind=str(form.get("kind", "deliver")),  # type: ignore[arg-type]
                error_code=int(str(form.get("error_code") or 30003)),
            ),
        )
        return self._back(request)

    def _back(self, request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/phones", status_code=303)
