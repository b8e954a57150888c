"""A real SMTP server on loopback (aiosmtpd) that keeps every email it receives."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.servers import reserve_port


@dataclass
class Mailbox:
    url: str
    received: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def text_of(message: Message) -> str:
    """The plain-text and HTML parts of an email, decoded, one after the other."""
    parts = [p for p in message.walk() if p.get_content_maintype() == "text"]
    return "\n".join(str(p.get_payload(decode=True).decode()) for p in parts)  # type: ignore[union-attr]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    sock = reserve_port()
    port = sock.getsockname()[1]
    sock.close()
    mailbox = Mailbox(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
