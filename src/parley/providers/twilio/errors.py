"""Twilio's error codes as data (errors.json), in words a firm's staff understand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ErrorInfo:
    code: str | None
    reason: str
    permanent: bool


@cache
def _table() -> dict[str, dict[str, object]]:
    text = resources.files(__package__).joinpath("errors.json").read_text()
    table: dict[str, dict[str, object]] = json.loads(text)
    return table


def describe_error(code: str | int | None) -> ErrorInfo:
    if code is None or str(code).strip() == "":
        return ErrorInfo(None, "The carrier could not deliver the text", True)
    known = _table().get(str(code).strip())
    if known is None:
        # An unknown code is treated as permanent: retrying blindly could text twice.
        return ErrorInfo(str(code), f"Twilio error {code}", True)
    return ErrorInfo(str(code), str(known["reason"]), bool(known["permanent"]))
