"""Jinja2, with autoescaping everywhere: every name and body on a page is escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


TEMPLATES.env.filters["when"] = _when
