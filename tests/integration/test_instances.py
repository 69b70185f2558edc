"""Several instances on one PostgreSQL database, in one process: two delivery loops deliver
each message once and keep each chat's order between them; a claim holds for its lease, a
dead instance's claims are sent again (counted) after it and a restarted instance's own at
once; the leader's timed work stops when it loses its connection and the other instance
takes over within the takeover time, marking what fell due meanwhile late; a second run of
a step does nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot.app import KorteLijn
from bot.config import DeliverySettings, Settings
from bot.domain.clock import ManualClock
from bot.domain.model import Norm
from bot.outbox import DeliveryLoop, resend_count
from bot.persistence import orm
from bot.persistence.database import migrate
from bot.services import windows
from bot.services.deadlines import process_due
from tests.conftest import PG_URL, _reset_postgres
from tests.integration.test_delivery_concurrency import NAME, Network, Store
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
