"""Delivery of the outbox: after the change that caused a message has committed, send it, with
retries, in order per chat, many chats at once.

Chats are delivered concurrently, at most ``[delivery] concurrency`` messages at a time and
one at a time per chat, so a request that hangs holds back only its own chat. Within a chat
the order is kept among messages of the same priority; a more urgent one (a reminder, a lapse
notice, an escalation) does not wait behind bulk (a digest) queued earlier, and an edit never
overtakes the message it edits. Where the network's overall limit is the bottleneck, the
transport admits the waiting messages most urgent first (``Outgoing.urgent`` / ``bulk``).

Nothing is sent to a transport before it is ready: the app says when it is
(:meth:`DeliveryLoop.set_ready`), which wakes the loop at once; a restart delivers its queue
without waiting out a fixed delay.

In-flight duplicates are as few as the network allows. Before a message's request goes out,
its row is marked in flight (``attempt_started_at``, committed); the mark goes with the
outcome. A crash between the two leaves the mark: at the next start only those rows may have
been sent, and they are sent again (a lost message is worse than a doubled one), each counted
in ``resends`` and logged without content (:func:`resend_count` reads the total). A crash
before the mark loses nothing (the row stays pending) and sends nothing twice.

Several instances on one PostgreSQL database each run a loop (docs/OPERATIONS.md). The mark
in flight is also the claim: the row is locked ``FOR UPDATE SKIP LOCKED`` and marked with the
instance's name (``claimed_by``) and a lease (``lease_until``, ``[delivery] lease``) in one
short transaction, so a message claimed twice is sent once; a row in flight anywhere is left
alone by the others, and holds back the messages behind it in its chat (order per chat across
instances). A claim whose lease ran out (its instance died) is taken back by any instance,
counted as a resend and sent again; a restarted instance takes back its own at once.

A transport that paces itself raises ``NotYet`` for a chat that may not receive another message
yet: that chat waits (no attempt counted) while the others go on. A message that can never be
delivered, or is given up, is reported to the coordinators, facts only, in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from bot import i18n, metrics, notify
from bot.config import DeliverySettings
from bot.domain.choices import MessageKind
from bot.domain.clock import Clock
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import access
from bot.transports.base import (
    Choice,
    Document,
    NotYet,
    Outgoing,
    PermanentFailure,
    RetryLater,
    Transport,
)

log = logging.getLogger(__name__)

BATCH = 100
#: how long to wait, after a failed delivery round, before the next
ROUND_FAILED_WAIT = timedelta(seconds=5)
#: on stopping, how long a delivery round under way may take to end
STOP_WAIT = 5.0
#: a transport not configured now (e.g. Telegram switched off): its messages wait this long
NO_TRANSPORT_WAIT = timedelta(minutes=1)

Chat = tuple[str, str]


def _first_in_its_chat() -> ColumnElement[bool]:
    """A pending message with no earlier pending message to the same chat that must go first:
    one at least as urgent, or the message it edits."""
    earlier = aliased(orm.OutboxRow)
    waiting_before = (
        select(earlier.id)
        .where(earlier.transport == orm.OutboxRow.transport,
               earlier.address == orm.OutboxRow.address,
               earlier.status == "pending", earlier.id < orm.OutboxRow.id,
               or_(earlier.priority <= orm.OutboxRow.priority,
                   earlier.id == orm.OutboxRow.edit_of))
        .exists())
    return and_(orm.OutboxRow.status == "pending", ~waiting_before)


def _not_in_chats(chats: Iterable[Chat]) -> ColumnElement[bool]:
    """Not a message to one of ``chats``: a plain test of the row itself, which the database
    makes before it looks for an earlier message in the same chat (a chat in flight with a
    long queue then costs nothing per look-up)."""
    return and_(True, *(~and_(orm.OutboxRow.transport == transport,
                              orm.OutboxRow.address == address)
                        for transport, address in sorted(chats)))


def _due(now: datetime, *, skip_ids: Iterable[int], skip_transports: Iterable[str],
         limit: int, skip_chats: Iterable[Chat] = ()) -> Select[orm.OutboxRow]:
    """Pending messages due now, most urgent first, then oldest first, except those queued
    behind an earlier message to the same chat that must go first (order per chat), those
    in flight (here or at another instance), and those to ``skip_chats`` (the chats in flight
    here: each one's next message is found when its message in flight is done)."""
    return (select(orm.OutboxRow)
            .where(_not_in_chats(skip_chats), _first_in_its_chat(),
                   orm.OutboxRow.next_attempt_at <= now,
                   orm.OutboxRow.attempt_started_at.is_(None),
                   orm.OutboxRow.id.not_in(list(skip_ids)),
                   orm.OutboxRow.transport.not_in(list(skip_transports)))
            .order_by(orm.OutboxRow.priority, orm.OutboxRow.id).limit(limit))


async def resend_count(uow: UnitOfWork) -> int:
    """How many times a message was sent again although it may have gone out already (it
    was in flight at a crash, or its request timed out): each may show twice."""
    total = (await uow.session.execute(
        select(func.coalesce(func.sum(orm.OutboxRow.resends), 0)))).scalar_one()
    return int(total)


class DeliveryLoop:
    def __init__(self, new_uow: Callable[[], UnitOfWork], transports: Mapping[str, Transport],
                 clock: Clock, settings: DeliverySettings | None = None, *,
                 ready: Iterable[str] | None = None, instance: str = "",
                 shared: bool = False) -> None:
        self._new_uow = new_uow
        self._transports = transports
        self._clock = clock
        self._settings = settings or DeliverySettings()
        #: the transports messages may go to now (all of them unless the app says otherwise)
        self._ready: set[str] = set(transports) if ready is None else set(ready)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        #: the deliveries' own writes, one at a time: short transactions that queue here
        #: instead of in the database's lock (SQLite's busy wait sleeps in steps)
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        #: the chats with a message in flight, and its row
        self._inflight: dict[Chat, tuple[int, asyncio.Task[None]]] = {}
        self._recovered = False
        #: deliveries finished so far (a look at the queue is stale when this moved)
        self._finished = 0
        #: messages found due and not yet started, most urgent first, then oldest first
        self._candidates: list[orm.OutboxRow] = []
        self._stale = True
        self._looked_now = False
        self._looking = False
        self._stopping = False
        #: resends of messages that may have gone out, in this process (see ``resend_count``)
        self.resends = 0
        #: this instance's name on the rows it claims
        self.instance = instance
        #: other instances may deliver from the same database (PostgreSQL): claims there
        #: are locked (SKIP LOCKED), and expired leases are looked for now and then
        self._shared = shared
        self._next_recovery: datetime | None = None
        #: rows found locked by another instance's claim: that instance sends them; left
        #: alone here until the next look for expired claims
        self._passed: set[int] = set()

    def poke(self) -> None:
        """Something was written to the outbox: deliver soon."""
        self._stale = True
        self._wake.set()

    def set_ready(self, transport: str, ready: bool = True) -> None:
        """A transport is up (or going down): its messages go (or wait) from now on."""
        if ready:
            self._ready.add(transport)
            self.poke()
        else:
            self._ready.discard(transport)

    @property
    def in_flight(self) -> int:
        """Messages whose request is out now."""
        return len(self._inflight)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop delivering; the requests in flight finish (each within its time-out)."""
        if self._task is not None:
            # a round under way ends first (cancelled in a query, the driver complains)
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._stopping = False
        await self._drain()

    async def _drain(self) -> None:
        tasks = [task for _, task in self._inflight.values()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                next_at = await self._start_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed; trying again shortly")
                next_at = self._clock.now() + ROUND_FAILED_WAIT
            timeout = None
            if next_at is not None:
                timeout = max(0.0, (next_at - self._clock.now()).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                self._stale = True  # time passed: more may be due
            self._wake.clear()
        log.debug("outbox delivery stopped")

    async def deliver_due(self) -> datetime | None:
        """Send every message that is due now, and wait until they are out; return when the
        next pending one is due."""
        self._stale = True
        while True:
            finished = self._finished
            next_at = await self._start_due()
            if not self._inflight:
                if self._finished == finished:
                    return next_at
                self._stale = True
                continue  # one finished while we looked: the chat's next may be due now
            await asyncio.wait([task for _, task in self._inflight.values()],
                               return_when=asyncio.FIRST_COMPLETED)

    async def _start_due(self) -> datetime | None:
        """Start a delivery for each chat whose first message is due, most urgent first, as
        far as the concurrency allows; return when the next message not started falls due.

        The messages found due are kept in memory and handed out as slots free; the queue
        is read again when something new was written (``poke``), when time passed, or when
        none of them can go, so that a long queue costs one look-up per batch, not one per
        message."""
        async with self._lock:
            if not self._recovered:
                await self.recover_in_flight()
                self._recovered = True
            now = self._clock.now()
            if self._shared and (self._next_recovery is None or now >= self._next_recovery):
                self._passed.clear()
                if await self.recover_expired(now):
                    self._stale = True
                self._next_recovery = now + self._recovery_every
            waiting = set(self._transports) - self._ready
            if self._settings.concurrency - len(self._inflight) <= 0:
                return None  # a slot that frees wakes the loop
            if self._stale or not self._candidates:
                await self._look_up(now, waiting)
            started = self._start_candidates(now, waiting)
            if not started and not self._looked_now and self._candidates:
                await self._look_up(now, waiting)  # those kept cannot go: look again
                self._start_candidates(now, waiting)
            self._looked_now = False
            if self._settings.concurrency - len(self._inflight) <= 0:
                return None
            next_at = await self._next_due(now, waiting)
            if self._shared and self._next_recovery is not None:
                # another instance's claim may run out: look again by then
                next_at = min(next_at or self._next_recovery, self._next_recovery)
            return next_at

    @property
    def _recovery_every(self) -> timedelta:
        """How often a shared loop looks for claims whose lease ran out."""
        return max(min(self._settings.lease / 4, timedelta(seconds=5)),
                   timedelta(milliseconds=200))

    async def _look_up(self, now: datetime, waiting: set[str]) -> None:
        self._stale = False
        self._looked_now = True
        busy = [row_id for row_id, _ in self._inflight.values()] + list(self._passed)
        # the chats in flight are left out (``_due``): each one's next message is found when
        # its message in flight is done (``_next_in_chat``), or by a later look
        limit = max(BATCH, 3 * len(self._inflight) + self._settings.concurrency)
        self._looking = True
        try:
            async with self._new_uow() as uow:
                self._candidates = list((await uow.session.execute(_due(
                    now, skip_ids=busy, skip_transports=waiting, limit=limit,
                    skip_chats=set(self._inflight)))).scalars())
        finally:
            self._looking = False

    def _start_candidates(self, now: datetime, waiting: set[str]) -> int:
        """Start the kept messages that may go now, in order; keep the rest."""
        started = 0
        kept: list[orm.OutboxRow] = []
        for index, row in enumerate(self._candidates):
            if self._settings.concurrency - len(self._inflight) <= 0:
                kept.extend(self._candidates[index:])
                break
            chat = (row.transport, row.address)
            if chat in self._inflight or row.transport in waiting or row.next_attempt_at > now:
                kept.append(row)  # one message at a time per chat: order is kept
                continue
            task = asyncio.create_task(self._deliver_one(row), name=f"outbox-{row.id}")
            self._inflight[chat] = (row.id, task)
            task.add_done_callback(functools.partial(self._done, chat))
            started += 1
        self._candidates = kept
        return started

    def _keep(self, row: orm.OutboxRow) -> None:
        """A chat's next message, found when its previous one was sent: kept in order."""
        if self._looking:
            self._stale = True  # a look-up under way may not see it: look again after it
        key = (row.priority, row.id)
        if any(c.id == row.id for c in self._candidates):
            return
        index = next((i for i, c in enumerate(self._candidates) if (c.priority, c.id) > key),
                     len(self._candidates))
        self._candidates.insert(index, row)

    def _done(self, chat: Chat, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(chat, None)
        self._finished += 1
        self._wake.set()  # a slot is free, and the chat's next message may be due

    async def _next_due(self, now: datetime, waiting: set[str]) -> datetime | None:
        """The next moment a chat's first message falls due (those behind it wait), not
        counting the chats in flight; ``None`` when none, or while every slot is taken (a
        slot that frees wakes the loop)."""
        busy_chats = set(self._inflight)
        busy = [row_id for row_id, _ in self._inflight.values()] + list(self._passed)
        async with self._new_uow() as uow:
            candidates = (await uow.session.execute(
                select(orm.OutboxRow.transport, orm.OutboxRow.address,
                       orm.OutboxRow.next_attempt_at)
                .where(_not_in_chats(busy_chats), _first_in_its_chat(),
                       orm.OutboxRow.id.not_in(busy),
                       orm.OutboxRow.attempt_started_at.is_(None),
                       orm.OutboxRow.transport.not_in(list(waiting)))
                .order_by(orm.OutboxRow.next_attempt_at)
                .limit(3 * len(busy_chats) + 1))).all()
        if len(self._inflight) >= self._settings.concurrency:
            return None  # a slot that frees wakes the loop
        for transport, address, at in candidates:
            if (transport, address) not in busy_chats:
                return at
        return None

    async def recover_in_flight(self) -> int:
        """Rows marked in flight by an earlier run (it stopped before their outcome was
        recorded) may have been sent: they are sent again, and counted. Returns how many.

        One instance (SQLite): every such row. Several: those this instance claimed in an
        earlier run (by its name), those claimed before claims were named, and those whose
        lease ran out; another instance's live claims are its own."""
        now = self._clock.now()
        mine: ColumnElement[bool] = orm.OutboxRow.attempt_started_at.is_not(None)
        if self._shared:
            mine = and_(mine, or_(orm.OutboxRow.claimed_by.is_(None),
                                  orm.OutboxRow.lease_until.is_(None),
                                  orm.OutboxRow.lease_until <= now,
                                  *([orm.OutboxRow.claimed_by == self.instance]
                                    if self.instance else [])))
        return await self._take_back(mine, "was in flight when the bot stopped")

    async def recover_expired(self, now: datetime) -> int:
        """Claims whose lease ran out (their instance died, or lost the database): sent
        again, and counted. Never one of this instance's own requests under way."""
        busy = [row_id for row_id, _ in self._inflight.values()]
        return await self._take_back(
            and_(orm.OutboxRow.attempt_started_at.is_not(None),
                 orm.OutboxRow.lease_until <= now, orm.OutboxRow.id.not_in(busy)),
            "was claimed by an instance that stopped")

    async def _take_back(self, which: ColumnElement[bool], why: str) -> int:
        async with self._write_lock, self._new_uow() as uow:
            query = (select(orm.OutboxRow.id).where(orm.OutboxRow.status == "pending", which)
                     .order_by(orm.OutboxRow.id))
            if self._shared:
                query = query.with_for_update(skip_locked=True)
            ids = list((await uow.session.execute(query)).scalars())
            if ids:
                await uow.session.execute(
                    update(orm.OutboxRow).where(orm.OutboxRow.id.in_(ids)).values(
                        attempt_started_at=None, claimed_by=None, lease_until=None,
                        resends=orm.OutboxRow.resends + 1)
                    .execution_options(synchronize_session=False))
                await uow.commit()
        for row_id in ids:
            log.warning("outbox %s %s: it may have been sent; sending it again", row_id, why)
        self.resends += len(ids)
        return len(ids)

    async def _deliver_one(self, row: orm.OutboxRow) -> None:
        try:
            await self._deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database, say: the row stays pending and is tried again
            log.exception("outbox %s: delivery failed; it stays queued", row.id)

    async def _deliver(self, row: orm.OutboxRow) -> bool:
        transport = self._transports.get(row.transport)
        if transport is None:
            # a transport not running now (e.g. Telegram switched off): keep it for later
            await self._reschedule(row, "transport not running", NO_TRANSPORT_WAIT,
                                   count=False)
            metrics.delivery_failed(row.transport, "not_running", wait_s=60.0)
            return False
        marked = await self._mark_in_flight(row)
        if marked is None:
            return False  # done meanwhile (a stale look-up)
        edit_of, recipient, language = marked
        document = await self._document(row) if row.kind == MessageKind.DOCUMENT else None
        message = Outgoing(chat_id=row.address, text=row.text,
                           choices=tuple(Choice(label=c.label, command=c.command)
                                         for c in row.choices),
                           edit_of=edit_of, reply_to=row.reply_to, recipient_label=recipient,
                           language=language, outbox_id=row.id,
                           urgent=row.priority <= notify.Priority.URGENT,
                           bulk=row.priority >= notify.Priority.BULK,
                           extra={"kind": row.kind} if row.kind != MessageKind.MESSAGE else {},
                           document=document)
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
            await self._reschedule(row, f"retry: {error.reason}"[:200], delay,
                                   maybe_sent=error.maybe_sent)
            metrics.delivery_failed(row.transport, "temporary" if error.retry_after is None
                                    else "rate_limited", wait_s=delay.total_seconds())
            return False
        except PermanentFailure as error:
            log.warning("outbox %s: permanent failure: %s", row.id, error.reason)
            await self._finish(row.id, "failed", None, f"permanent: {error.reason}"[:200],
                               failed=row, failure_kind=error.kind,
                               document=row.kind == MessageKind.DOCUMENT)
            metrics.delivery_failed(row.transport, error.kind)
            return True
        except Exception as error:  # a transport bug must not stop delivery of the rest
            log.exception("outbox %s: unexpected delivery error", row.id)
            await self._reschedule(row, type(error).__name__[:200], self._backoff(row.attempts))
            metrics.delivery_failed(row.transport, "error")
            return False
        await self._finish(row.id, "sent", message_id, None, keep_text=bool(row.choices),
                           document=document is not None)
        metrics.delivered(row.transport)
        return True

    async def _mark_in_flight(self, row: orm.OutboxRow
                              ) -> tuple[str | None, str, str | None] | None:
        """Mark the row in flight, committed before the request goes out; with it, the
        transport id of the message this one edits (if any), how to name the recipient
        where the transport shows it, and the recipient's language. ``None`` when the row is
        no longer pending."""
        async with self._write_lock, self._new_uow() as uow:
            now = self._clock.now()
            claimable = (orm.OutboxRow.id == row.id, orm.OutboxRow.status == "pending",
                         orm.OutboxRow.attempt_started_at.is_(None))
            if self._shared:
                # the claim: a row another instance is claiming now is skipped, not waited for
                locked = (await uow.session.execute(
                    select(orm.OutboxRow.id).where(*claimable)
                    .with_for_update(skip_locked=True))).scalar_one_or_none()
                if locked is None:
                    self._passed.add(row.id)  # claimed elsewhere meanwhile, or being claimed
                    return None
            result = await uow.session.execute(
                update(orm.OutboxRow).where(*claimable)
                .values(attempt_started_at=now, claimed_by=self.instance or None,
                        lease_until=now + self._settings.lease)
                .execution_options(synchronize_session=False))
            if getattr(result, "rowcount", 0) != 1:
                return None
            original = (await uow.session.get(orm.OutboxRow, row.edit_of)
                        if row.edit_of is not None else None)
            person = await uow.persons.get(row.person_id) if row.person_id is not None else None
            addressing = (original.transport_message_id if original else None,
                          person.display_name if person else "",
                          person.language if person else None)
            await uow.commit()
            return addressing

    async def _document(self, row: orm.OutboxRow) -> Document | None:
        """The document a message carries (decrypted only for the request)."""
        async with self._new_uow() as uow:
            found = (await uow.session.execute(
                select(orm.OutboxDocument).where(orm.OutboxDocument.outbox_id == row.id))
            ).scalar_one_or_none()
            return (Document(filename=found.filename, mime=found.mime, data=found.content)
                    if found is not None else None)

    @staticmethod
    async def _purge_document(uow: UnitOfWork, row_id: int) -> None:
        """A document is kept only until its message is delivered or given up."""
        await uow.session.execute(delete(orm.OutboxDocument)
                                  .where(orm.OutboxDocument.outbox_id == row_id))

    def _backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self._settings.first_backoff * (2 ** attempts)
        return min(delay, self._settings.max_backoff)

    async def _reschedule(self, row: orm.OutboxRow, reason: str, delay: timedelta,
                          count: bool = True, maybe_sent: bool = False) -> None:
        attempts = row.attempts + (1 if count else 0)
        status = "failed" if attempts >= self._settings.max_attempts else "pending"
        async with self._write_lock, self._new_uow() as uow:
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row.id).values(
                    attempts=attempts, status=status, last_error=reason,
                    next_attempt_at=self._clock.now() + delay, attempt_started_at=None,
                    claimed_by=None, lease_until=None,
                    resends=orm.OutboxRow.resends + (1 if maybe_sent and status == "pending"
                                                     else 0)))
            if status == "failed":
                await self._report_failure(uow, row, "gave_up", attempts)
                if row.kind == MessageKind.DOCUMENT:
                    await self._purge_document(uow, row.id)
            await uow.commit()
        if maybe_sent and status == "pending":
            log.warning("outbox %s may have been sent; it is sent again", row.id)
            self.resends += 1
        if status == "failed":
            log.warning("outbox %s given up after %d attempts", row.id, attempts)
            metrics.delivery_failed(row.transport, "gave_up")

    async def _hold(self, row_id: int, delay: timedelta) -> None:
        """Try this row again after ``delay``; its attempts and last error stay as they are."""
        async with self._write_lock, self._new_uow() as uow:
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row_id).values(
                    next_attempt_at=self._clock.now() + delay, attempt_started_at=None,
                    claimed_by=None, lease_until=None))
            await uow.commit()

    async def _report_failure(self, uow: UnitOfWork, row: orm.OutboxRow, kind: str,
                              attempts: int) -> None:
        """Tell every coordinator, facts only, that a message could not be delivered; in the
        transaction that marks it failed. Never the message's text; never about a report
        (no loop), and once per chat until a message gets through again."""
        if row.kind == MessageKind.DELIVERY_FAILED:
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
                await notify.to_person(uow, coordinator_id, render, now,
                                       kind=MessageKind.DELIVERY_FAILED)

    async def _finish(self, row_id: int, status: str, message_id: str | None,
                      error: str | None, keep_text: bool = False,
                      failed: orm.OutboxRow | None = None, failure_kind: str = "",
                      document: bool = False) -> None:
        values: dict[str, object] = {"status": status, "last_error": error,
                                     "transport_message_id": message_id,
                                     "attempt_started_at": None, "claimed_by": None,
                                     "lease_until": None}
        if status == "sent":
            values["sent_at"] = self._clock.now()
            if not keep_text:
                # a delivered message keeps its text only while it may still be edited
                values["text"] = ""
        async with self._write_lock, self._new_uow() as uow:
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
            if document:
                await self._purge_document(uow, row_id)
            following = await self._next_in_chat(uow, row_id)
            await uow.commit()
        if following is not None:
            self._keep(following)

    async def _next_in_chat(self, uow: UnitOfWork, row_id: int) -> orm.OutboxRow | None:
        """The message that is now first in the chat of ``row_id`` (just done), if due: the
        most urgent, then oldest, of its pending ones (none earlier can go before it, unless
        it edits a message still pending)."""
        this = aliased(orm.OutboxRow)
        following = (await uow.session.execute(
            select(orm.OutboxRow)
            .where(orm.OutboxRow.transport == select(this.transport)
                   .where(this.id == row_id).scalar_subquery(),
                   orm.OutboxRow.address == select(this.address)
                   .where(this.id == row_id).scalar_subquery(),
                   orm.OutboxRow.status == "pending",
                   orm.OutboxRow.next_attempt_at <= self._clock.now())
            .order_by(orm.OutboxRow.priority, orm.OutboxRow.id).limit(1))).scalar_one_or_none()
        if following is not None and following.edit_of is not None:
            self._stale = True  # an edit: the next look-up decides whether its message went
            return None
        return following

