"""Sending email: SMTP when configured, otherwise kept in the outbox for the dev mailbox."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape

from parley.domain.email_notice import NoticeEmail

log = logging.getLogger(__name__)

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "web" / "templates" / "email"),
    autoescape=select_autoescape(["html"]),
)


class EmailFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def render(email: NoticeEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = email.from_address
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="parley")
    message.set_content(_TEMPLATES.get_template("notice.txt").render(email=email))
    message.add_alternative(
        _TEMPLATES.get_template("notice.html").render(email=email), subtype="html"
    )
    return message


class SmtpSender:
    """`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.hostname = parts.hostname or "localhost"
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                timeout=20,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise EmailFailed(
                f"The mail server refused the address: {error}", permanent=True
            ) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise EmailFailed(f"The mail server is unreachable: {error}", permanent=False) from None
