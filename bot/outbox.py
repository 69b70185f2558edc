"""Delivery of the outbox: after the change that caused a message has committed, send it, with
retries, in order per chat.

A message is marked sent right after its transport accepted it. A crash between the commit and
the delivery loses nothing (the row stays pending); a crash in the instant between the
transport's acceptance and the mark could send it once more, which is the least any chat
network without idempotency keys allows.

A transport that paces itself raises ``NotYet`` for a chat that may not receive another message
yet: that chat waits (no attempt counted) while the others go on. A message that can never be
delivered, or is given up, is reported to the coordinators, facts only, in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, select, update
from sqlalchemy.orm import aliased

from bot import i18n, metrics, notify
from bot.config import DeliverySettings
from bot.domain.clock import Clock
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import access
from bot.transports.base import (
    Choice,
    NotYet,
    Outgoing,
    PermanentFailure,
    RetryLater,
    Transport,
)

log = logging.getLogger(__name__)

BATCH = 100


def _first_in_its_chat() -> ColumnElement[bool]:
    """A pending message with no earlier pending message to the same chat (order per chat)."""
    earlier = aliased(orm.OutboxRow)
    waiting_before = (
        select(earlier.id)
        .where(earlier.transport == orm.OutboxRow.transport,
               earlier.address == orm.OutboxRow.address,
               earlier.status == "pending", earlier.id < orm.OutboxRow.id)
        .exists())
    return and_(orm.OutboxRow.status == "pending", ~waiting_before)


def _due(now: datetime) -> Select[orm.OutboxRow]:
    """Pending messages due now, oldest first, except those queued behind an earlier message
    to the same chat that is still waiting for its retry (order per chat is kept)."""
    return (select(orm.OutboxRow)
            .where(_first_in_its_chat(), orm.OutboxRow.next_attempt_at <= now)
            .order_by(orm.OutboxRow.id).limit(BATCH))


class DeliveryLoop:
    def __init__(self, new_uow: Callable[[], UnitOfWork], transports: Mapping[str, Transport],
                 clock: Clock, settings: DeliverySettings | None = None) -> None:
        self._new_uow = new_uow
        self._transports = transports
        self._clock = clock
        self._settings = settings or DeliverySettings()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Something was written to the outbox: deliver soon."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                next_at = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed; trying again shortly")
                next_at = self._clock.now() + timedelta(seconds=5)
            timeout = None
            if next_at is not None:
                timeout = max(0.0, (next_at - self._clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()

    async def deliver_due(self) -> datetime | None:
        """Send every message that is due now; return when the next pending one is due."""
        async with self._lock:
            tried: set[int] = set()
            while True:
                now = self._clock.now()
                async with self._new_uow() as uow:
                    rows = [row for row in (await uow.session.execute(_due(now))).scalars()
                            if row.id not in tried]
                if not rows:
                    break
                held: set[tuple[str, str]] = set()
                for row in rows:
                    chat = (row.transport, row.address)
                    if chat in held:
                        continue  # keep the order per chat: an earlier one is waiting
                    tried.add(row.id)
                    if not await self._deliver(row):
                        held.add(chat)
            async with self._new_uow() as uow:
                # the next moment a chat's first message falls due (those behind it wait)
                return (await uow.session.execute(
                    select(orm.OutboxRow.next_attempt_at)
                    .where(_first_in_its_chat())
                    .order_by(orm.OutboxRow.next_attempt_at).limit(1))).scalar_one_or_none()

    async def _deliver(self, row: orm.OutboxRow) -> bool:
        transport = self._transports.get(row.transport)
        if transport is None:
            # a transport not running now (e.g. Telegram switched off): keep it for later
            await self._reschedule(row, "transport not running", timedelta(minutes=1),
                                   count=False)
            metrics.delivery_failed(row.transport, "not_running", wait_s=60.0)
            return False
        edit_of, recipient, language = await self._addressing(row)
        message = Outgoing(chat_id=row.address, text=row.text,
                           choices=tuple(Choice(label=c[0], command=c[1]) for c in row.choices),
                           edit_of=edit_of, reply_to=row.reply_to, recipient_label=recipient,
                           language=language)
        try:
            message_id = await transport.send(message)
        except NotYet as error:
            # the transport paces this chat: nothing was sent, no attempt is counted
            await self._hold(row.id, timedelta(seconds=max(error.wait, 0.0)))
            metrics.held_back(row.transport, error.wait)
            return False
        except RetryLater as error:
            delay = (timedelta(seconds=error.retry_after) if error.retry_after is not None
                     else self._backoff(row.attempts))
            log.warning("outbox %s: %s; retry in %ss", row.id, error.reason,
                        delay.total_seconds())
            await self._reschedule(row, f"retry: {error.reason}"[:200], delay)
            metrics.delivery_failed(row.transport, "temporary" if error.retry_after is None
                                    else "rate_limited", wait_s=delay.total_seconds())
            return False
        except PermanentFailure as error:
            log.warning("outbox %s: permanent failure: %s", row.id, error.reason)
            await self._finish(row.id, "failed", None, f"permanent: {error.reason}"[:200],
                               failed=row, failure_kind=error.kind)
            metrics.delivery_failed(row.transport, error.kind)
            return True
        except Exception as error:  # a transport bug must not stop delivery of the rest
            log.exception("outbox %s: unexpected delivery error", row.id)
            await self._reschedule(row, type(error).__name__[:200], self._backoff(row.attempts))
            metrics.delivery_failed(row.transport, "error")
            return False
        await self._finish(row.id, "sent", message_id, None, keep_text=bool(row.choices))
        metrics.delivered(row.transport)
        return True

    async def _addressing(self, row: orm.OutboxRow) -> tuple[str | None, str, str | None]:
        """The transport id of the message this one edits (if any), how to name the recipient
        where the transport shows it, and the recipient's language: one look-up for all."""
        if row.edit_of is None and row.person_id is None:
            return None, "", None
        async with self._new_uow() as uow:
            original = (await uow.session.get(orm.OutboxRow, row.edit_of)
                        if row.edit_of is not None else None)
            person = await uow.persons.get(row.person_id) if row.person_id is not None else None
            return (original.transport_message_id if original else None,
                    person.display_name if person else "", person.language if person else None)

    def _backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self._settings.first_backoff * (2 ** attempts)
        return min(delay, self._settings.max_backoff)

    async def _reschedule(self, row: orm.OutboxRow, reason: str, delay: timedelta,
                          count: bool = True) -> None:
        attempts = row.attempts + (1 if count else 0)
        status = "failed" if attempts >= self._settings.max_attempts else "pending"
        async with self._new_uow() as uow:
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row.id).values(
                    attempts=attempts, status=status, last_error=reason,
                    next_attempt_at=self._clock.now() + delay))
            if status == "failed":
                await self._report_failure(uow, row, "gave_up", attempts)
            await uow.commit()
        if status == "failed":
            log.warning("outbox %s given up after %d attempts", row.id, attempts)
            metrics.delivery_failed(row.transport, "gave_up")

    async def _hold(self, row_id: int, delay: timedelta) -> None:
        """Try this row again after ``delay``; its attempts and last error stay as they are."""
        async with self._new_uow() as uow:
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row_id).values(
                    next_attempt_at=self._clock.now() + delay))
            await uow.commit()

    async def _report_failure(self, uow: UnitOfWork, row: orm.OutboxRow, kind: str,
                              attempts: int) -> None:
        """Tell every coordinator, facts only, that a message could not be delivered; in the
        transaction that marks it failed. Never the message's text; never about a report
        (no loop), and once per chat until a message gets through again."""
        if is_failure_report(row.text):
            return
        previous = (await uow.session.execute(
            select(orm.OutboxRow.status)
            .where(orm.OutboxRow.transport == row.transport,
                   orm.OutboxRow.address == row.address, orm.OutboxRow.id < row.id,
                   orm.OutboxRow.status.in_(("sent", "failed")))
            .order_by(orm.OutboxRow.id.desc()).limit(1))).scalar_one_or_none()
        if previous == "failed":
            return  # already reported: nothing reached this chat since
        recipient = await uow.persons.get(row.person_id) if row.person_id is not None else None
        coordinators = (await uow.session.execute(
            select(orm.Person.id).where(orm.Person.is_coordinator.is_(True))
            .order_by(orm.Person.id))).scalars()
        network = row.transport.capitalize()

        def render(lang: str) -> str:
            name = recipient.display_name if recipient is not None else i18n.t(
                lang, "delivery.unknown_recipient")
            key = f"delivery.reason.{kind}"
            reason = (i18n.t(lang, key, attempts=attempts) if key in i18n.MESSAGES
                      else i18n.t(lang, "delivery.reason.refused"))
            return i18n.t(lang, "delivery.failed", name=name, transport=network, reason=reason)

        now = self._clock.now()
        for coordinator_id in list(coordinators):
            if coordinator_id != row.person_id:
                await notify.to_person(uow, coordinator_id, render, now)

    async def _finish(self, row_id: int, status: str, message_id: str | None,
                      error: str | None, keep_text: bool = False,
                      failed: orm.OutboxRow | None = None, failure_kind: str = "") -> None:
        values: dict[str, object] = {"status": status, "last_error": error,
                                     "transport_message_id": message_id}
        if status == "sent":
            values["sent_at"] = self._clock.now()
            if not keep_text:
                # a delivered message keeps its text only while it may still be edited
                values["text"] = ""
        async with self._new_uow() as uow:
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row_id).values(**values))
            if status == "sent":
                # the message this one replaces needs its text no longer
                original = await uow.session.get(orm.OutboxRow, row_id)
                if original is not None and original.edit_of is not None:
                    await uow.session.execute(
                        update(orm.OutboxRow).where(orm.OutboxRow.id == original.edit_of)
                        .values(text=""))
                if original is not None:
                    # a case's message reaching a person is logged, in this transaction
                    await access.delivered(uow, original, self._clock.now())
            if failed is not None:
                await self._report_failure(uow, failed, failure_kind, failed.attempts + 1)
            await uow.commit()


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = [re.escape(literal) + ("(?:.*?)" if field is not None else "")
             for literal, field, _, _ in string.Formatter().parse(template)]
    return re.compile("".join(parts), re.DOTALL)


_REPORTS = [_template_pattern(i18n.MESSAGES["delivery.failed"][lang])
            for lang in i18n.LANGUAGES]


def is_failure_report(text: str) -> bool:
    """Whether an outbox text is a delivery-failure report to a coordinator."""
    return any(pattern.fullmatch(text) for pattern in _REPORTS)
