"""Delivery many chats at once, against a real database (SQLite and PostgreSQL): a request that
hangs holds back only its own chat; the order within a chat is kept, except that urgent
messages do not wait behind bulk; nothing goes to a transport before it is ready, and it goes
at once when it is; the attempt is recorded before the request, so that after a crash only the
messages in flight are sent again, counted. Also over HTTP: one chat's hanging request to the
Bot API stand-in holds back no other chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.config import DeliverySettings, TelegramSettings
from bot.domain.clock import ManualClock
from bot.notify import Priority
from bot.outbox import DeliveryLoop, resend_count
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.transports.base import IncomingHandler, Outgoing, RetryLater
from bot.transports.telegram import TelegramTransport
from tests.support.fake_bot_api import FakeBotApi

NAME = "net"


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


class Store:
    def __init__(self, url: str, clock: ManualClock) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)
        self.clock = clock

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def queue(self, chat: str, text: str, priority: Priority = Priority.NORMAL,
                    edit_of: int | None = None, transport: str = NAME) -> int:
        async with self.uow() as uow:
            row = await uow.outbox.add(transport=transport, address=chat, text=text,
                                       now=self.clock.now(), priority=priority,
                                       edit_of=edit_of, with_id=True)
            await uow.commit()
            return row.id

    async def rows(self) -> dict[int, orm.OutboxRow]:
        async with self.uow() as uow:
            return {row.id: row for row in (await uow.session.execute(
                select(orm.OutboxRow).order_by(orm.OutboxRow.id))).scalars()}


@pytest.fixture
async def store(database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    s = Store(database_url, clock)
    await migrate(s.engine)
    yield s
    await s.engine.dispose()


class Network:
    """A transport whose requests to some chats hang until the test lets them through."""

    name = NAME

    def __init__(self, on_send: Callable[[Outgoing], object] | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.hanging: dict[str, asyncio.Event] = {}
        self.in_flight: set[str] = set()
        self.changed = asyncio.Event()
        self.failures: list[Exception] = []
        self._on_send = on_send

    async def start(self, on_incoming: IncomingHandler) -> None:
        return None

    async def stop(self) -> None:
        return None

    def hang(self, chat: str) -> asyncio.Event:
        return self.hanging.setdefault(chat, asyncio.Event())

    def release_all(self) -> None:
        for gate in self.hanging.values():
            gate.set()

    async def send(self, message: Outgoing) -> str:
        if self._on_send is not None:
            result = self._on_send(message)
            if asyncio.iscoroutine(result):
                await result
        if self.failures:
            raise self.failures.pop(0)
        assert message.chat_id not in self.in_flight, "two at once to one chat"
        self.in_flight.add(message.chat_id)
        try:
            gate = self.hanging.get(message.chat_id)
            if gate is not None:
                self._changed()
                await gate.wait()
            self.sent.append(message)
        finally:
            self.in_flight.discard(message.chat_id)
            self._changed()
        return f"{message.chat_id}:{len(self.sent)}"

    def _changed(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def texts(self, chat: str | None = None) -> list[str]:
        return [m.text for m in self.sent if chat is None or m.chat_id == chat]

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until the predicate holds, re-checking after every change (a deadline)."""
        async with asyncio.timeout(within):
            while not predicate():
                await self.changed.wait()


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll for a condition of the loop's own state, with a deadline."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (the loop offers no event for it)
            await asyncio.sleep(0.005)


async def test_a_hanging_request_holds_back_only_its_own_chat(store: Store) -> None:
    network = Network()
    slow = network.hang("slow")
    await store.queue("slow", "slow 1")
    await store.queue("slow", "slow 2")
    for chat in range(5):
        await store.queue(f"c{chat}", f"to c{chat}")
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock)
    await loop.start()
    try:
        loop.poke()
        await network.until(lambda: len(network.sent) == 5)
        assert sorted(network.texts()) == [f"to c{chat}" for chat in range(5)]
        await eventually(lambda: loop.in_flight == 1)  # the others are marked sent
        assert network.in_flight == {"slow"}  # still hanging, and its second one waits
        assert network.texts("slow") == []
        slow.set()
        await network.until(lambda: network.texts("slow") == ["slow 1", "slow 2"])
    finally:
        network.release_all()
        await loop.stop()
    assert all(row.status == "sent" for row in (await store.rows()).values())


async def test_no_more_at_once_than_the_bound(store: Store) -> None:
    network = Network()
    gates = [network.hang(f"c{chat}") for chat in range(6)]
    for chat in range(6):
        await store.queue(f"c{chat}", "x")
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock,
                        DeliverySettings(concurrency=4))
    await loop.start()
    try:
        loop.poke()
        await network.until(lambda: len(network.in_flight) == 4)
        assert loop.in_flight == 4
        gates[0].set()
        gates[1].set()
        await network.until(lambda: len(network.sent) == 2 and len(network.in_flight) == 4)
        assert loop.in_flight <= 4
        network.release_all()
        await network.until(lambda: len(network.sent) == 6)
    finally:
        network.release_all()
        await loop.stop()


async def test_urgent_first_then_normal_then_bulk_when_one_at_a_time(store: Store) -> None:
    network = Network()
    for chat in range(3):
        await store.queue(f"d{chat}", f"digest {chat}", Priority.BULK)
    await store.queue("a", "answer", Priority.NORMAL)
    await store.queue("r", "reminder", Priority.URGENT)
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock,
                        DeliverySettings(concurrency=1))
    await loop.deliver_due()
    assert network.texts() == ["reminder", "answer", "digest 0", "digest 1", "digest 2"]
    urgency = [(m.urgent, m.bulk) for m in network.sent]
    assert urgency == [(True, False), (False, False), (False, True), (False, True),
                       (False, True)]


async def test_within_a_chat_the_order_is_kept_but_urgent_does_not_wait_behind_bulk(
        store: Store) -> None:
    network = Network()
    digest = await store.queue("p", "digest", Priority.BULK)
    await store.queue("p", "answer 1")
    await store.queue("p", "reminder", Priority.URGENT)
    await store.queue("p", "answer 2")
    await store.queue("p", "edit of the digest", Priority.URGENT, edit_of=digest)
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock)
    await loop.deliver_due()
    # urgent before normal before bulk, each in the order queued; an edit after its message
    assert network.texts("p") == ["reminder", "answer 1", "answer 2", "digest",
                                  "edit of the digest"]
    assert network.sent[-1].edit_of == "p:4"


async def test_nothing_goes_before_the_transport_is_ready_and_all_goes_once_it_is(
        store: Store) -> None:
    network = Network()
    first = await store.queue("p", "queued before the start")
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock, ready=())
    await loop.start()
    try:
        loop.poke()
        assert await loop.deliver_due() is None  # nothing can go: nothing is due for it
        assert network.sent == []
        row = (await store.rows())[first]
        # held without an attempt and without a delay of its own
        assert (row.status, row.attempts, row.next_attempt_at) == (
            "pending", 0, store.clock.now())
        loop.set_ready(NAME)  # the transport is up: the loop is woken, no delay waited out
        await network.until(lambda: network.texts("p") == ["queued before the start"])
        loop.set_ready(NAME, False)
        await store.queue("p", "while it is down")
        loop.poke()
        await loop.deliver_due()
        assert network.texts("p") == ["queued before the start"]
        loop.set_ready(NAME)
        await network.until(lambda: len(network.sent) == 2)
    finally:
        await loop.stop()


async def test_the_attempt_is_recorded_before_the_request(store: Store) -> None:
    marks: list[object] = []

    async def look(message: Outgoing) -> None:
        async with store.uow() as uow:  # another connection: sees only what is committed
            row = await uow.session.get(orm.OutboxRow, message.outbox_id)
            assert row is not None
            marks.append(row.attempt_started_at)

    network = Network(on_send=look)
    row_id = await store.queue("p", "hallo")
    await DeliveryLoop(store.uow, {NAME: network}, store.clock).deliver_due()
    assert marks == [store.clock.now()]
    row = (await store.rows())[row_id]
    assert (row.status, row.attempt_started_at, row.resends) == ("sent", None, 0)


async def test_after_a_crash_only_the_messages_in_flight_are_sent_again_and_counted(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.outbox")
    in_flight = await store.queue("p", "private text in flight")
    waiting = await store.queue("q", "private text waiting")
    done = await store.queue("r", "private text sent")
    async with store.uow() as uow:  # as the process that died left them
        await uow.session.execute(update(orm.OutboxRow).where(orm.OutboxRow.id == in_flight)
                                  .values(attempt_started_at=store.clock.now()))
        await uow.session.execute(update(orm.OutboxRow).where(orm.OutboxRow.id == done)
                                  .values(status="sent"))
        await uow.commit()
    network = Network()
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock)
    await loop.deliver_due()
    assert sorted(network.texts()) == ["private text in flight", "private text waiting"]
    rows = await store.rows()
    assert (rows[in_flight].resends, rows[waiting].resends, rows[done].resends) == (1, 0, 0)
    assert loop.resends == 1
    async with store.uow() as uow:
        assert await resend_count(uow) == 1
    lines = [r.getMessage() for r in caplog.records if "in flight" in r.getMessage()]
    assert lines == [f"outbox {in_flight} was in flight when the bot stopped: it may have "
                     "been sent; sending it again"]
    assert "private" not in caplog.text
    # a second start finds nothing in flight
    await DeliveryLoop(store.uow, {NAME: network}, store.clock).deliver_due()
    async with store.uow() as uow:
        assert await resend_count(uow) == 1


async def test_a_request_that_may_have_gone_out_is_sent_again_and_counted(
        store: Store) -> None:
    network = Network()
    row_id = await store.queue("p", "hallo")
    network.failures.append(RetryLater("network: TimedOut", maybe_sent=True))
    loop = DeliveryLoop(store.uow, {NAME: network}, store.clock)
    await loop.deliver_due()
    store.clock.advance(timedelta(minutes=1))
    await loop.deliver_due()
    row = (await store.rows())[row_id]
    assert (row.status, row.attempts, row.resends) == ("sent", 1, 1)
    assert loop.resends == 1


async def test_over_http_a_hanging_chat_holds_back_no_other(store: Store) -> None:
    async with FakeBotApi(hang_seconds=30) as api:  # real clock, limits enforced
        for user in (1, 2, 3, 4):
            api.add_user(user)
        telegram = TelegramTransport(TelegramSettings.model_validate(
            {"token": api.token, "base_url": api.base_url, "request_timeout": "20s"}))
        await telegram.start(lambda incoming: asyncio.sleep(0))
        loop = DeliveryLoop(store.uow, {"telegram": telegram}, store.clock)
        try:
            api.fail_next("sendMessage", kind="timeout")  # the first request hangs
            for user in (1, 2, 3, 4):
                await store.queue(str(user), f"to {user}", transport="telegram")
            await loop.start()
            loop.poke()
            await api.wait_for(lambda: len({m.chat_id for m in api.sent()}) == 3, within=10)
            (slow,) = {1, 2, 3, 4} - {m.chat_id for m in api.sent()}
            await eventually(lambda: loop.in_flight == 1)  # only its request still hangs
            assert api.sent(slow) == []
        finally:
            await api.stop()  # ends the hanging request
            await loop.stop()
            await telegram.stop()
