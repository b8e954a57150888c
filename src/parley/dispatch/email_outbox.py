"""Working the email outbox: due notices are skipped, sent by SMTP, or captured.

Never twice: a notice is marked as being sent, and committed, before the SMTP
conversation starts. SMTP cannot be asked afterwards whether it took an email, so a
notice found still marked after its worker died is not sent again but recorded as
failed with that reason, for staff to see (the message itself is on the portal and,
if texted, on the client's phone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from datetime import timedelta

from parley.db.email_notices import claim_due_notices
from parley.db.models import EmailNotice
from parley.db.reply_links import opened_since
from parley.domain.retry import RetryPolicy, retry_delay, should_give_up
from parley.providers.email import EmailFailed, SmtpSender, render
from parley.services.context import ServiceContext
from parley.services.email_notices import compose_notice

log = logging.getLogger(__name__)


class EmailOutbox:
    def __init__(
        self,
        ctx: ServiceContext,
        sender: SmtpSender | None,
        *,
        worker_id: str | None = None,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        retry: RetryPolicy | None = None,
    ) -> None:
        self.ctx = ctx
        self.sender = sender
        self.worker_id = worker_id or f"mail-{uuid.uuid4().hex[:8]}"
        self.poll_interval = poll_interval
        self.lease = lease
        self.retry = retry or RetryPolicy(max_attempts=8, base_seconds=30, cap_seconds=1800)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.work_once()
            except Exception:
                log.exception("email outbox round failed")
                worked = 0
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)

    async def work_once(self, limit: int = 20) -> int:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            notices = await claim_due_notices(
                session, worker=self.worker_id, now=now, lease_until=now + self.lease, limit=limit
            )
        for notice in notices:
            await self._work(notice)
        return len(notices)

    async def _work(self, notice: EmailNotice) -> None:
        if notice.sending_started_at is not None:
            await self._finish(
                notice,
                "failed",
                "Interrupted while sending; not sent again in case it had arrived.",
            )
            return
        async with self.ctx.db.transaction() as session:
            email, newest = await compose_notice(session, self.ctx.settings, notice)
            if await opened_since(session, notice.conversation_id, notice.contact_id, newest):
                row = await session.get_one(EmailNotice, notice.id)
                row.status, row.reason = "skipped", "Opened before the notice was due"
                row.next_attempt_at = row.claimed_by = row.claimed_until = None
                return
            row = await session.get_one(EmailNotice, notice.id)
            row.subject = email.subject
            if self.sender is not None:
                row.sending_started_at = self.ctx.clock()
        if self.sender is None:
            log.info(
                "email notice to %s captured (no SMTP configured): %s", email.to, email.subject
            )
            await self._finish(notice, "captured", None)
            return
        try:
            await self.sender.send(render(email))
        except EmailFailed as failure:
            await self._failed(notice, failure)
            return
        await self._finish(notice, "sent", None)

    async def _finish(self, notice: EmailNotice, status: str, reason: str | None) -> None:
        async with self.ctx.db.transaction() as session:
            row = await session.get_one(EmailNotice, notice.id)
            row.status, row.reason = status, reason
            row.next_attempt_at = row.claimed_by = row.claimed_until = None
            row.sending_started_at = None
            if status in ("sent", "captured"):
                row.sent_at = self.ctx.clock()

    async def _failed(self, notice: EmailNotice, failure: EmailFailed) -> None:
        if failure.permanent or should_give_up(self.retry, notice.attempts):
            await self._finish(notice, "failed", failure.reason)
            return
        delay = retry_delay(self.retry, notice.attempts, random.random())
        async with self.ctx.db.transaction() as session:
            row = await session.get_one(EmailNotice, notice.id)
            row.reason = failure.reason
            row.next_attempt_at = self.ctx.clock() + timedelta(seconds=delay)
            row.claimed_by = row.claimed_until = row.sending_started_at = None
