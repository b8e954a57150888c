"""Jinja2, with autoescaping everywhere: every name and body on a page is escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
# Templates ship with the code and change only with it: not checking each one's file
# on every render saves two system calls per reply page.
TEMPLATES.env.auto_reload = False

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _words(iso: str) -> str:
    """Like 05 Nov 2026, 14:30 UTC, cut from a moment's ISO form (2026-11-05T14:30:…):
    in English whatever the server's locale (strftime's %b follows it), and at half
    strftime's cost."""
    return f"{iso[8:10]} {_MONTHS[int(iso[5:7]) - 1]} {iso[:4]}, {iso[11:16]} UTC"


def _when(moment: datetime) -> str:
    return _words(moment.isoformat())


def _time_tag(moment: datetime) -> Markup:
    """The moment as a <time> element: machine-readable, and written as `when` writes it.

    One filter instead of a call of isoformat() in the template, which Jinja routes
    through its own call machinery: a tenth of the reply page's rendering; the ISO
    form is made once for both parts. Safe as markup: digits, fixed words and
    punctuation.
    """
    iso = moment.isoformat()
    return Markup(f'<time datetime="{iso}">{_words(iso)}</time>')


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["time_tag"] = _time_tag
