"""Delivery of the outbox: after the change that caused a message has committed, send it, with
retries, in order per chat.

A message is marked sent right after its transport accepted it. A crash between the commit and
the delivery loses nothing (the row stays pending); a crash in the instant between the
transport's acceptance and the mark could send it once more, which is the least any chat
network without idempotency keys allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import aliased

from bot.config import DeliverySettings
from bot.domain.clock import Clock
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.transports.base import Choice, Outgoing, PermanentFailure, RetryLater, Transport

log = logging.getLogger(__name__)

BATCH = 100


def _due(now: datetime) -> Select[orm.OutboxRow]:
    """Pending messages due now, oldest first, except those queued behind an earlier message
    to the same chat that is still waiting for its retry (order per chat is kept)."""
    earlier = aliased(orm.OutboxRow)
    waiting_before = (
        select(earlier.id)
        .where(earlier.transport == orm.OutboxRow.transport,
               earlier.address == orm.OutboxRow.address,
               earlier.status == "pending", earlier.id < orm.OutboxRow.id)
        .exists())
    return (select(orm.OutboxRow)
            .where(orm.OutboxRow.status == "pending", orm.OutboxRow.next_attempt_at <= now,
                   ~waiting_before)
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
                return (await uow.session.execute(
                    select(orm.OutboxRow.next_attempt_at)
                    .where(orm.OutboxRow.status == "pending")
                    .order_by(orm.OutboxRow.next_attempt_at).limit(1))).scalar_one_or_none()

    async def _deliver(self, row: orm.OutboxRow) -> bool:
        transport = self._transports.get(row.transport)
        if transport is None:
            # a transport not running now (e.g. Telegram switched off): keep it for later
            await self._reschedule(row, "transport not running", timedelta(minutes=1),
                                   count=False)
            return False
        edit_of = await self._edit_target(row)
        recipient = ""
        if row.person_id is not None:
            async with self._new_uow() as uow:
                person = await uow.persons.get(row.person_id)
                recipient = person.display_name if person else ""
        message = Outgoing(chat_id=row.address, text=row.text,
                           choices=tuple(Choice(label=c[0], command=c[1]) for c in row.choices),
                           edit_of=edit_of, reply_to=row.reply_to, recipient_label=recipient)
        try:
            message_id = await transport.send(message)
        except RetryLater as error:
            delay = (timedelta(seconds=error.retry_after) if error.retry_after is not None
                     else self._backoff(row.attempts))
            log.warning("outbox %s: %s; retry in %ss", row.id, error.reason,
                        delay.total_seconds())
            await self._reschedule(row, f"retry: {error.reason}"[:200], delay)
            return False
        except PermanentFailure as error:
            log.warning("outbox %s: permanent failure: %s", row.id, error.reason)
            await self._finish(row.id, "failed", None, f"permanent: {error.reason}"[:200])
            return True
        except Exception as error:  # a transport bug must not stop delivery of the rest
            log.exception("outbox %s: unexpected delivery error", row.id)
            await self._reschedule(row, type(error).__name__[:200], self._backoff(row.attempts))
            return False
        await self._finish(row.id, "sent", message_id, None, keep_text=bool(row.choices))
        return True

    async def _edit_target(self, row: orm.OutboxRow) -> str | None:
        if row.edit_of is None:
            return None
        async with self._new_uow() as uow:
            original = await uow.session.get(orm.OutboxRow, row.edit_of)
            return original.transport_message_id if original else None

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
            await uow.commit()
        if status == "failed":
            log.warning("outbox %s given up after %d attempts", row.id, attempts)

    async def _finish(self, row_id: int, status: str, message_id: str | None,
                      error: str | None, keep_text: bool = False) -> None:
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
            await uow.commit()
