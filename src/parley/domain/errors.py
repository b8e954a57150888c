"""Errors the use cases raise; the web layer turns each into one HTTP status."""

from __future__ import annotations


class ParleyError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ParleyError):
    code = "not_found"


class InvalidInput(ParleyError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ParleyError):
    code = "conflict"
