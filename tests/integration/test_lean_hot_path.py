"""The hot path stays lean (issue 9, item 9), on SQLite and PostgreSQL: posting a signal takes
few statements and one commit, and the shortcuts that make it so keep their promises: deferred
rows are seen by the unit of work's own later statements and vanish with a rollback, the order
of messages is kept, what a unit of work remembers is forgotten when it changes, and on SQLite
a unit of work waiting for the write lock never holds up the event loop.

Statement counts are deterministic, so they are asserted exactly enough to fail when the path
grows again; nothing here is timed (``make bench-ingest`` measures speed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select, text

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import ManualClock, SystemClock
from bot.domain.commands import CreateCase, InviteToRole, RedeemInvitation
from bot.domain.model import Role
from bot.persistence import orm
from bot.persistence import sqlite as lite
from bot.persistence.database import create_engine, migrate
from bot.services import cases
from bot.transports.base import Incoming

#: statements of one signal (landlord, noise, a case with landlord, coach and police officer)
#: as measured: 10 (by_identity with the person's cases, signal, window, its steps, the case's
#: roster with people and identities, its shared chats, the kinds for the pattern, then at the
#: commit the timeline events, the messages (one statement that returns their ids with their
#: row keys, for their choices) and the choices); room for one statement only: on PostgreSQL
#: the deadline scheduler's look at the earliest step, woken by the signal before, may still
#: fall inside the count (it does not on SQLite)
STATEMENTS_PER_SIGNAL = 10
MARGIN = 1

MEMBERS = (("lotte", Role.LANDLORD), ("bram", Role.COACH), ("petra", Role.POLICE))


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


class Counter:
    def __init__(self, app: KorteLijn) -> None:
        self.statements: list[str] = []
        self.commits = 0
        event.listen(app.engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(app.engine.sync_engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(" ".join(statement.split())[:80])

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements, self.commits = [], 0


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[KorteLijn]:
    settings = Settings.model_validate({"database": {"url": database_url}})
    # the deadline scheduler (APScheduler) runs on the real clock: with the bot's clock at
    # the real moment, no wake-up of its own falls inside the test and adds statements
    clock = ManualClock(SystemClock().now())
    bot = KorteLijn(settings, clock=clock, transports=[], console=False)
    await bot.start()
    await bot.delivery.stop()  # what is counted is ingesting, not delivering
    try:
        yield bot
    finally:
        await bot.stop()


async def case_with_three(app: KorteLijn) -> str:
    async with app.new_uow() as uow:
        now = app.ctx.clock.now()
        coordinator = await uow.persons.add(display_name="Coco", language="nl",
                                            transport="console", address="coco", now=now,
                                            is_coordinator=True)
        code = await cases.create_case(CreateCase(coordinator.id), uow, app.ctx)
        for address, role in MEMBERS:
            person = await uow.persons.add(display_name=address.title(), language="nl",
                                           transport="console", address=address, now=now)
            issued = await cases.invite(InviteToRole(coordinator.id, code, role), uow, app.ctx)
            await cases.redeem(RedeemInvitation(person.id, issued.code), uow, app.ctx)
        await uow.commit()
    return code


def line(text: str, sender: str = "lotte") -> Incoming:
    return Incoming(transport="console", chat_id=sender, sender_id=sender,
                    sender_name=sender.title(), text=text)


async def settle() -> None:
    """Let what a commit woke (the deadline scheduler) run, as between two messages."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_signal_takes_few_statements_and_one_commit(app: KorteLijn) -> None:
    code = await case_with_three(app)
    await app.dispatcher.handle(line(f"/signaal {code} geluid"))  # the first arms the scheduler
    await settle()
    counter = Counter(app)
    for _ in range(3):
        counter.reset()
        await app.dispatcher.handle(line(f"/signaal {code} geluid"))
        await settle()
        assert counter.commits == 1, counter.statements
        assert len(counter.statements) <= STATEMENTS_PER_SIGNAL + MARGIN, "\n".join(
            counter.statements)
        if app.engine.dialect.name == "sqlite":  # no scheduler statement falls inside
            assert len(counter.statements) == STATEMENTS_PER_SIGNAL, "\n".join(
                counter.statements)
    # and it did all it must: the signal, its window and steps, its events, the coach's notice
    # and the reply, committed together
    async with app.new_uow() as uow:
        signals = await uow.signals.of_case((await uow.cases.by_code(code)).id)  # type: ignore[union-attr]
        last = signals[-1]
        windows = await uow.windows.for_signal(last.id)
        events = [(t.event, t.signal_id) for t in await uow.timeline.of_case(last.case_id)]
        messages = list((await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.created_at == app.clock.now())
            .order_by(orm.OutboxRow.id))).scalars())
        steps = await uow.windows.due(windows[0].due_at, 100)
    assert len(signals) == 4
    assert len(windows) == 1
    assert ("signal_posted", last.id) in events
    assert ("window_opened", last.id) in events
    assert any(s.window_id == windows[0].id for s in steps)
    to = [(m.address, m.choices != []) for m in messages[-2:]]
    assert to == [("bram", True), ("lotte", False)]  # the notice with its button, then the reply


async def test_deferred_rows_are_seen_by_later_statements_and_go_with_a_rollback(
        app: KorteLijn) -> None:
    code = await case_with_three(app)
    async with app.new_uow() as uow:
        case = await uow.cases.by_code(code)
        assert case is not None
        before = len(await uow.timeline.of_case(case.id))
        uow.timeline.record(case_id=case.id, at=app.clock.now(), event="case_note")
        await uow.outbox.add(transport="console", address="bram", text="een", now=app.clock.now())
        # read in the same unit of work: written just before the read
        assert len(await uow.timeline.of_case(case.id)) == before + 1
        texts = [r.text for r in (await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.address == "bram"))).scalars()]
        assert "een" in texts
        # no commit: all of it goes
    async with app.new_uow() as uow:
        assert len(await uow.timeline.of_case(case.id)) == before
        texts = [r.text for r in (await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.address == "bram"))).scalars()]
        assert "een" not in texts


async def test_messages_keep_their_order_also_when_one_needs_its_id(app: KorteLijn) -> None:
    now = app.clock.now()
    async with app.new_uow() as uow:
        await uow.outbox.add(transport="console", address="x", text="1", now=now)
        await uow.outbox.add(transport="console", address="x", text="2", now=now)
        third = await uow.outbox.add(transport="console", address="x", text="3", now=now,
                                     with_id=True)
        await uow.outbox.add(transport="console", address="x", text="4", now=now)
        await uow.commit()
    async with app.new_uow() as uow:
        rows = list((await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.address == "x")
            .order_by(orm.OutboxRow.id))).scalars())
    assert [r.text for r in rows] == ["1", "2", "3", "4"]
    assert third.id == rows[2].id


async def test_what_a_unit_of_work_remembers_follows_its_changes(app: KorteLijn) -> None:
    code = await case_with_three(app)
    async with app.new_uow() as uow:
        case = await uow.cases.by_code(code)
        assert case is not None
        members = await uow.cases.members(case.id)
        assert [m.role for m in members] == [r for _, r in MEMBERS]
        lotte = next(m.person_id for m in members if m.role is Role.LANDLORD)
        assert await uow.cases.roles_of(case.id, lotte) == [Role.LANDLORD]
        # a change through the repository
        await uow.cases.add_member(case.id, lotte, Role.MUNICIPALITY, None, app.clock.now())
        assert await uow.cases.roles_of(case.id, lotte) == [Role.LANDLORD, Role.MUNICIPALITY]
        assert len(await uow.cases.members(case.id, (Role.MUNICIPALITY,))) == 1
        # a change by a statement of its own (as erasure and retention make)
        await uow.session.execute(orm.Membership.__table__.delete().where(
            orm.Membership.person_id == lotte))
        assert await uow.cases.roles_of(case.id, lotte) == []
        assert await uow.cases.members(case.id, (Role.LANDLORD,)) == []
        assert await uow.persons.identity_of(lotte) is not None


async def test_sqlite_runs_durably_and_a_unit_of_work_waits_for_the_lock_off_the_loop(
        tmp_path: Any, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    for chosen, expected in (("full", 2), ("normal", 1)):
        engine = create_engine(url, sqlite_synchronous=chosen)  # type: ignore[arg-type]
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == expected
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        await engine.dispose()

    settings = Settings.model_validate({"database": {"url": url}})
    bot = KorteLijn(settings, clock=clock, transports=[], console=False)
    await migrate(bot.engine)
    holding, release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def writer() -> None:
        async with bot.new_uow() as uow:
            await uow.outbox.add(transport="console", address="w", text="first",
                                 now=clock.now(), with_id=True)  # holds the write lock now
            holding.set()
            await release.wait()
            await uow.commit()
            order.append("first committed")

    async def second() -> None:
        await holding.wait()
        async with bot.new_uow() as uow:  # waits for the lock, asynchronously
            rows = (await uow.session.execute(
                select(orm.OutboxRow.text).where(orm.OutboxRow.address == "w"))).scalars()
            order.append(f"second read {list(rows)}")

    async def meanwhile() -> None:
        await holding.wait()
        for _ in range(20):
            await asyncio.sleep(0)
        order.append("loop ran meanwhile")
        release.set()

    await asyncio.wait_for(asyncio.gather(writer(), second(), meanwhile()), timeout=20)
    await bot.engine.dispose()
    # the second unit of work began only after the first committed (serialisable), and the
    # event loop was never held up while it waited
    assert order == ["loop ran meanwhile", "first committed", "second read ['first']"]


async def test_a_commit_syncs_on_the_loop_while_the_disk_is_fast_and_off_it_when_slow(
        tmp_path: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commit's sync is timed; while recent syncs were fast it runs on the event loop
    (a hop to a thread costs more), once they are slow it waits in a worker thread, and
    when the disk is fast again it comes back. The disk's speed is played, not waited for."""
    settings = Settings.model_validate({"database": {"url": f"sqlite:///{tmp_path / 'k.db'}"}})
    bot = KorteLijn(settings, clock=clock, transports=[], console=False)
    await migrate(bot.engine)
    monkeypatch.setattr(lite, "_sync_cost", lite._SyncCost())
    sync_takes = [0.0001]

    def timed_commit(connection: Any) -> float:
        connection.commit()  # really committed; only its duration is played
        return sync_takes[0]

    monkeypatch.setattr(lite, "_timed_commit", timed_commit)
    hops: list[str] = []
    real_to_thread = asyncio.to_thread

    async def to_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", "?"))
        return await real_to_thread(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)

    async def commit_one(text_: str) -> bool:
        """Commit one message; whether its sync went off the loop."""
        before = len(hops)
        async with bot.new_uow() as uow:
            await uow.outbox.add(transport="console", address="d", text=text_,
                                 now=clock.now(), with_id=True)
            await uow.commit()
        return len(hops) > before

    try:
        assert [await commit_one(f"fast {i}") for i in range(5)] == [False] * 5
        sync_takes[0] = 0.05  # the disk slows down: after a few slow syncs, off the loop
        slow = [await commit_one(f"slow {i}") for i in range(5)]
        assert slow[0] is False
        assert slow[-1] is True
        sync_takes[0] = 0.0001  # fast again: back on the loop before long
        fast_again = [await commit_one(f"again {i}") for i in range(80)]
        assert fast_again[0] is True
        assert fast_again[-1] is False
        assert set(hops) == {"timed_commit"}
        async with bot.new_uow() as uow:
            texts = list((await uow.session.execute(
                select(orm.OutboxRow.text).where(orm.OutboxRow.address == "d"))).scalars())
        assert len(texts) == 90  # every commit committed, wherever it synced
    finally:
        await bot.engine.dispose()


@pytest.mark.parametrize("count", [3, 250])
async def test_many_messages_with_choices_in_one_unit_of_work_keep_their_ids_and_choices(
        app: KorteLijn, count: int) -> None:
    """A few messages go in one INSERT of their own; many (a broadcast) in SQLAlchemy's
    batches: either way each message gets its own id and its own choices."""
    now = app.clock.now()
    async with app.new_uow() as uow:
        for index in range(count):
            await uow.outbox.add(transport="console", address=f"m{count}", text=f"m {index}",
                                 now=now, choices=[(f"ja {index}", f"/ok {index}"),
                                                   (f"nee {index}", f"/nee {index}")])
        await uow.commit()
    async with app.new_uow() as uow:
        rows = list((await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.address == f"m{count}")
            .order_by(orm.OutboxRow.id))).scalars())
        choices = (await uow.session.execute(
            select(orm.OutboxChoice.outbox_id, orm.OutboxChoice.idx, orm.OutboxChoice.command)
            .where(orm.OutboxChoice.outbox_id.in_([r.id for r in rows])))).all()
    assert [r.text for r in rows] == [f"m {i}" for i in range(count)]
    by_message = {(outbox_id, idx): command for outbox_id, idx, command in choices}
    for index, row in enumerate(rows):
        assert by_message[(row.id, 0)] == f"/ok {index}"
        assert by_message[(row.id, 1)] == f"/nee {index}"
