"""Several instances on one PostgreSQL database, in one process: two delivery loops deliver
each message once and keep each chat's order between them; a claim holds for its lease, a
dead instance's claims are sent again (counted) after it and a restarted instance's own at
once; the leader's timed work stops when it loses its connection and the other instance
takes over within the takeover time, marking what fell due meanwhile late; a second run of
a step does nothing; in webhook mode only the instance with the Telegram account's lock
listens, and one taking over listens as soon as the old one lets go of the port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from bot.app import KorteLijn
from bot.config import DeliverySettings, Settings
from bot.domain.clock import ManualClock
from bot.domain.model import Norm
from bot.leader import account_lock
from bot.outbox import DeliveryLoop, resend_count
from bot.persistence import orm
from bot.persistence.database import migrate
from bot.services import windows
from bot.services.deadlines import process_due
from bot.transports.telegram import TelegramTransport
from tests.conftest import PG_URL, _reset_postgres
from tests.integration.test_delivery_concurrency import NAME, Network, Store
from tests.integration.test_telegram_transport import USER, free_port
from tests.support.fake_bot_api import FakeBotApi
from tests.support.polling import until

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")]

LEASE = timedelta(seconds=30)


@pytest.fixture
async def store(clock: ManualClock) -> AsyncIterator[Store]:
    await _reset_postgres(PG_URL)
    s = Store(PG_URL, clock)
    await migrate(s.engine)
    yield s
    await s.engine.dispose()
    await _reset_postgres(PG_URL)


def loop_of(store: Store, name: str, network: Network) -> DeliveryLoop:
    return DeliveryLoop(store.uow, {NAME: network}, store.clock,
                        DeliverySettings(concurrency=4, lease=LEASE), instance=name,
                        shared=True)


async def test_two_loops_send_each_message_once_in_order_per_chat(store: Store) -> None:
    log: list[tuple[str, str]] = []  # (chat, text) in the order the network took them
    networks = [Network(on_send=lambda m: log.append((m.chat_id, m.text))) for _ in "ab"]
    chats = ["p", "q", "r"]
    for number in range(12):
        for chat in chats:
            await store.queue(chat, f"{chat}{number:02d}")
    a, b = (loop_of(store, name, net) for name, net in zip("ab", networks, strict=True))
    for _ in range(10):  # each looks, claims and sends, at the same time as the other
        await asyncio.gather(a.deliver_due(), b.deliver_due())
    sent = [m.text for net in networks for m in net.sent]
    assert sorted(sent) == sorted(f"{c}{n:02d}" for c in chats for n in range(12))
    for chat in chats:  # between them, in order
        assert [t for c, t in log if c == chat] == [f"{chat}{n:02d}" for n in range(12)]
    assert all(row.status == "sent" and row.claimed_by is None
               for row in (await store.rows()).values())
    assert a.resends == b.resends == 0


async def test_a_claim_holds_for_its_lease_then_another_instance_sends_it_counted(
        store: Store) -> None:
    row_id = await store.queue("p", "hallo")
    behind = await store.queue("p", "daarna")
    async with store.uow() as uow:  # instance a claimed it, and died
        await uow.session.execute(update(orm.OutboxRow).where(orm.OutboxRow.id == row_id)
                                  .values(attempt_started_at=store.clock.now(),
                                          claimed_by="a",
                                          lease_until=store.clock.now() + LEASE))
        await uow.commit()
    network = Network()
    b = loop_of(store, "b", network)
    await b.deliver_due()
    assert network.texts() == []  # a's claim, and the message behind it waits (order)
    store.clock.advance(LEASE + timedelta(seconds=1))
    await b.deliver_due()
    assert network.texts() == ["hallo", "daarna"]
    rows = await store.rows()
    assert (rows[row_id].resends, rows[behind].resends) == (1, 0)
    assert b.resends == 1


async def test_a_restarted_instance_takes_back_its_own_claims_at_once(store: Store) -> None:
    mine = await store.queue("p", "mine")
    theirs = await store.queue("q", "theirs")
    async with store.uow() as uow:
        for row_id, name in ((mine, "a"), (theirs, "b")):
            await uow.session.execute(
                update(orm.OutboxRow).where(orm.OutboxRow.id == row_id)
                .values(attempt_started_at=store.clock.now(), claimed_by=name,
                        lease_until=store.clock.now() + LEASE))
        await uow.commit()
    network = Network()
    await loop_of(store, "a", network).deliver_due()  # a, started again
    assert network.texts() == ["mine"]  # b's claim is b's until its lease runs out
    async with store.uow() as uow:
        assert await resend_count(uow) == 1


async def test_a_row_another_instance_is_claiming_is_skipped_not_waited_for(
        store: Store) -> None:
    row_id = await store.queue("p", "hallo")
    network = Network()
    b = loop_of(store, "b", network)
    async with store.engine.connect() as other:  # another instance, mid-claim
        await other.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"),
                            {"id": row_id})
        async with asyncio.timeout(5):
            await b.deliver_due()
        assert network.texts() == []
        await other.rollback()  # it did not claim it after all
    store.clock.advance(timedelta(seconds=6))  # b looks at such rows again after a while
    await b.deliver_due()
    assert network.texts() == ["hallo"]


def settings(takeover: str) -> Settings:
    return Settings.model_validate({"database": {"url": PG_URL},
                                    "quiet_hours": {"start": "00:00", "end": "00:00"},
                                    "cluster": {"takeover": takeover}})


async def test_the_follower_takes_over_when_the_leader_loses_its_connection(
        clock: ManualClock) -> None:
    await _reset_postgres(PG_URL)
    first = KorteLijn(settings("0.6s"), clock=clock, transports=[], console=False)
    second = KorteLijn(settings("0.6s"), clock=clock, transports=[], console=False)
    try:
        await first.start()
        await second.start()
        assert (first.role, second.role) == ("leader", "follower")
        assert first.scheduler.active
        assert not second.scheduler.active
        # a window whose lapse falls due while no instance leads
        async with first.new_uow() as uow:
            coco = await uow.persons.add(display_name="Coco", language="nl",
                                         transport="console", address="coco", now=clock.now(),
                                         is_coordinator=True)
            case = await uow.cases.add("Z-2345", coco.id, clock.now())
            window = await windows.open_window(uow, first.ctx, case_id=case.id,
                                               norm=Norm.N5_FOUR_WEEK_CHECK, opened_by=None)
            await uow.commit()
        # the leader's connection is cut (as by a network failure or a killed backend)
        async with second.engine.connect() as conn:
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :high AND objid = :low AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"high": 0x4B4C, "low": 0x6C656164})
            await conn.commit()
        clock.advance(timedelta(weeks=5))
        await until(lambda: asyncio.sleep(0, first.role == "follower"), within=5,
                    what="the leader stepping down")
        await until(lambda: asyncio.sleep(0, second.role == "leader"), within=5,
                    what="the follower taking over")
        await until(lambda: asyncio.sleep(0, not first.scheduler.active), within=5,
                    what="the old leader's timed work stopping")

        async def lapsed() -> bool:
            async with second.new_uow() as uow:
                row = await uow.session.get(orm.WindowRow, window.id)
                return row is not None and row.status == "lapsed"

        await until(lapsed, within=10, what="the new leader carrying out the lapse")
        async with second.new_uow() as uow:
            late = (await uow.session.execute(
                select(orm.DeadlineRow.late).where(orm.DeadlineRow.window_id == window.id,
                                                   orm.DeadlineRow.step == "lapse"))
                    ).scalar_one()
        assert late  # it fell due while no instance led
        # the old leader, running it again, finds every step claimed: it does nothing
        assert await process_due(first.new_uow, first.ctx) == 0
    finally:
        await second.stop()
        await first.stop()
        await _reset_postgres(PG_URL)


# --- one instance takes a Telegram account's updates: the webhook ------------------------------
OTHER = USER + 1


def webhook_settings(api: FakeBotApi, instance: str, port: int) -> Settings:
    """Both instances as deployed behind one address: the same webhook URL and port (only
    the instance with the account's lock listens on it)."""
    return Settings.model_validate({
        "database": {"url": PG_URL},
        "bot": {"coordinators": [f"telegram:{USER}"]},
        "quiet_hours": {"start": "00:00", "end": "00:00"},
        "cluster": {"takeover": "0.6s", "instance": instance},
        "telegram": {"token": api.token, "base_url": api.base_url, "request_timeout": "2s",
                     "mode": "webhook", "webhook_url": f"http://127.0.0.1:{port}/hook",
                     "webhook_port": port}})


def telegram_of(app: KorteLijn) -> TelegramTransport:
    transport = app.transports["telegram"]
    assert isinstance(transport, TelegramTransport)
    return transport


def telegram_lock(api: FakeBotApi) -> tuple[int, int]:
    """The account lock's key as pg_locks shows it (classid, objid)."""
    key = account_lock("telegram", api.token.split(":", 1)[0]) & 0xFFFF_FFFF_FFFF_FFFF
    return key >> 32, key & 0xFFFF_FFFF


async def test_one_webhook_per_token_and_a_takeover_while_the_old_one_lets_go(
        clock: ManualClock) -> None:
    """Two instances in webhook mode: only the one with the account's lock listens and sets
    the webhook. It loses its connection (the lock goes with it) and lets go of the port only
    at its next check: the other, taking over, cannot listen yet, and does so as soon as the
    port is free, setting the webhook anew; the updates then reach it, each handled once."""
    await _reset_postgres(PG_URL)
    port = free_port()
    async with FakeBotApi() as api:
        api.add_user(USER, first_name="Coco")
        api.add_user(OTHER, first_name="Lotte")
        first = KorteLijn(webhook_settings(api, "a", port), clock=clock, console=False)
        second = KorteLijn(webhook_settings(api, "b", port), clock=clock, console=False)
        try:
            await first.start()
            await second.start()
            assert (first.receiving("telegram"), second.receiving("telegram")) == (True, False)
            assert api.webhook is not None
            assert api.webhook.url == f"http://127.0.0.1:{port}/hook"
            set_by_first = len(api.calls("setWebhook"))
            assert set_by_first == 1  # the second set none
            api.user_sends(USER, "/nieuwezaak", first_name="Coco")
            assert await api.post_webhook_update() == 200
            await first.delivery.deliver_due()
            assert len(api.sent(USER)) == 1

            # the first stops checking for a moment (a busy or stalled process), and its
            # connection, holding the account's lock, is cut: it serves on, unaware
            lock = first.receivers["telegram"]
            assert lock._task is not None
            lock._task.cancel()
            high, low = telegram_lock(api)
            async with second.engine.connect() as conn:
                await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                    "'advisory' AND classid = :high AND objid = :low AND granted"),
                    {"high": high, "low": low})
                await conn.commit()
            await until(lambda: asyncio.sleep(0, second.receivers["telegram"].is_leader),
                        within=5, what="the second taking the account's lock")
            # the port is still the first's: the second cannot listen yet, and says so
            first_tg, second_tg = (telegram_of(app) for app in (first, second))
            await until(lambda: asyncio.sleep(0, not second_tg.connected),
                        within=5, what="the second trying to listen")
            assert first_tg.connected
            # the first checks again, finds its lock gone and lets go of the port
            await lock.check()
            await until(lambda: asyncio.sleep(0, not first.receiving("telegram")), within=5,
                        what="the first stepping down")
            await until(lambda: asyncio.sleep(0, second_tg.connected),
                        within=10, what="the second listening once the port is free")
            assert len(api.calls("setWebhook")) > set_by_first  # set anew, with its secret
            api.user_sends(OTHER, "/help")  # another chat: the first's answer paced nothing
            assert await api.post_webhook_update() == 200
            await second.delivery.deliver_due()
            assert len(api.sent(OTHER)) == 1
            assert len(api.sent(USER)) == 1
            async with second.new_uow() as uow:
                cases = (await uow.session.execute(
                    select(func.count(orm.Case.id)))).scalar_one()
            assert cases == 1
        finally:
            await second.stop()
            await first.stop()
            await _reset_postgres(PG_URL)


# --- one instance runs a whole transport (Matrix: one sync per device) ---------------------------
class OneDevice:
    """A transport that runs whole or not at all, as Matrix does; ``running`` is shared by
    the instances, as one device and its key store are, and ``overlaps`` counts the starts
    made while another instance still ran it."""

    name = "matrix"

    def __init__(self, running: set[str], overlaps: list[str], instance: str) -> None:
        self._running, self._overlaps, self._instance = running, overlaps, instance

    async def start(self, on_incoming: object) -> None:
        if self._running:
            self._overlaps.append(f"{self._instance} started while {self._running} ran")
        self._running.add(self._instance)

    async def stop(self) -> None:
        self._running.discard(self._instance)

    async def send(self, message: object) -> str:
        raise AssertionError("nothing is sent in this test")


def device_settings(instance: str) -> Settings:
    return Settings.model_validate({
        "database": {"url": PG_URL},
        "quiet_hours": {"start": "00:00", "end": "00:00"},
        "cluster": {"takeover": "30s", "instance": instance},  # checks made by this test
        "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@kortelijn:localhost"}})


async def test_an_instance_taking_a_device_over_starts_it_only_after_the_old_one_stopped(
        clock: ManualClock) -> None:
    """The first instance runs the device; its connection (and the account's lock) is cut.
    The second takes the lock at its next check, and starts the device only at the check
    after, by when the first, at its own next check, has noticed and stopped: never both."""
    await _reset_postgres(PG_URL)
    running: set[str] = set()
    overlaps: list[str] = []
    first = KorteLijn(device_settings("a"), clock=clock, console=False,
                      transports=[OneDevice(running, overlaps, "a")])  # type: ignore[list-item]
    second = KorteLijn(device_settings("b"), clock=clock, console=False,
                       transports=[OneDevice(running, overlaps, "b")])  # type: ignore[list-item]
    try:
        await first.start()
        await second.start()
        a, b = first.receivers["matrix"], second.receivers["matrix"]
        for lock in (a, b):  # this test makes every check itself, in the order it names
            assert lock._task is not None
            lock._task.cancel()
        await a.check()  # the first, holding the lock since its start, takes the device
        await until(lambda: asyncio.sleep(0, running == {"a"}), within=5,
                    what="the first running the device")
        assert await b.check() == "follower"

        key = account_lock("matrix", "@kortelijn:localhost") & 0xFFFF_FFFF_FFFF_FFFF
        holder = ("FROM pg_locks WHERE locktype = 'advisory' AND classid = :high AND "
                  "objid = :low AND granted")
        held = text("SELECT pid " + holder)
        where = {"high": key >> 32, "low": key & 0xFFFF_FFFF}
        async with second.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(pid) " + holder), where)
            await conn.commit()

        async def free() -> bool:
            async with second.engine.connect() as conn:
                return (await conn.execute(held, where)).first() is None

        await until(free, within=5, what="the server dropping the first's lock")
        await b.check()  # the second's next check takes the lock ...
        await asyncio.gather(*list(second._tasks))  # (the change of role it made, if any)
        assert running == {"a"}  # ... and does not start the device yet
        await a.check()  # the first's next check: its lock is gone, it stops
        await until(lambda: asyncio.sleep(0, running == set()), within=5,
                    what="the first stopping the device")
        assert await b.check() == "leader"  # the check after: the second starts it
        await until(lambda: asyncio.sleep(0, running == {"b"}), within=5,
                    what="the second running the device")
        assert overlaps == []
    finally:
        await second.stop()
        await first.stop()
        await _reset_postgres(PG_URL)
