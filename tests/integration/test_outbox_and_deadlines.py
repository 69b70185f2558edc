"""The outbox and the deadlines against a real database (SQLite and PostgreSQL): nothing is
lost in a crash, nothing is sent twice, a job that fires twice does no harm."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from bot.config import DeliverySettings
from bot.domain.clock import ManualClock, SystemClock
from bot.domain.commands import CreateCase, InviteToRole, PostSignal, RedeemInvitation
from bot.domain.model import Norm, Role, SignalKind, WindowStatus
from bot.outbox import DeliveryLoop
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.services import cases, deadlines, signals, windows
from bot.services.context import ServiceContext
from bot.transports.base import PermanentFailure, RetryLater
from schedules.wakeup import DeadlineScheduler
from tests.support.recording import RecordingTransport


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


class World:
    """A migrated database with a coordinator, a landlord and a coach in one case."""

    def __init__(self, url: str, clock: ManualClock) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)
        self.clock = clock
        self.ctx = ServiceContext(clock=clock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def setup(self) -> None:
        await migrate(self.engine)
        async with self.uow() as uow:
            now = self.clock.now()
            coordinator = await uow.persons.add(display_name="C", language="nl",
                                                transport="console", address="c", now=now,
                                                is_coordinator=True)
            self.landlord = await uow.persons.add(display_name="L", language="nl",
                                                  transport="console", address="l", now=now)
            self.coach = await uow.persons.add(display_name="B", language="en",
                                               transport="console", address="b", now=now)
            self.case = await cases.create_case(CreateCase(coordinator.id), uow, self.ctx)
            for person, role in ((self.landlord, Role.LANDLORD), (self.coach, Role.COACH)):
                issued = await cases.invite(InviteToRole(coordinator.id, self.case, role),
                                            uow, self.ctx)
                await cases.redeem(RedeemInvitation(person.id, issued.code), uow, self.ctx)
            await uow.commit()

    async def post(self, kind: SignalKind = SignalKind.MISSED_RENT,
                   by: orm.Person | None = None) -> int:
        poster = by or self.landlord
        async with self.uow() as uow:
            posted = await signals.post_signal(
                PostSignal(poster.id, self.case, kind, "private note", note_confirmed=True),
                uow, self.ctx)
            await uow.commit()
        return posted.signal.id

    async def outbox(self) -> list[orm.OutboxRow]:
        async with self.uow() as uow:
            return list((await uow.session.execute(
                select(orm.OutboxRow).order_by(orm.OutboxRow.id))).scalars())


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = World(database_url, clock)
    await w.setup()
    yield w
    await w.engine.dispose()


async def test_a_crash_before_delivery_loses_nothing_and_sends_nothing_twice(
        world: World) -> None:
    await world.post()
    pending = [r for r in await world.outbox() if r.status == "pending"]
    assert pending  # committed with the signal, not yet delivered: the process "dies" here

    # a new process starts: one delivery loop delivers everything once
    transport = RecordingTransport()
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock)
    await loop.deliver_due()
    assert len(transport.sent) == len(await world.outbox())
    assert {r.status for r in await world.outbox()} == {"sent"}
    await loop.deliver_due()
    await DeliveryLoop(world.uow, {"console": transport}, world.clock).deliver_due()
    assert len(transport.sent) == len(await world.outbox())


async def test_a_failed_signal_leaves_no_message_behind(world: World) -> None:
    before = len(await world.outbox())
    async with world.uow() as uow:
        await signals.post_signal(PostSignal(world.landlord.id, world.case, SignalKind.NOISE),
                                  uow, world.ctx)
        # no commit: e.g. the process dies, or a later step of the same request fails
    assert len(await world.outbox()) == before
    async with world.uow() as uow:
        assert await uow.signals.of_case(1) == []


async def test_temporary_failures_are_retried_in_order_per_chat(world: World) -> None:
    transport = RecordingTransport()
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock,
                        DeliverySettings(first_backoff=timedelta(seconds=2)))
    await loop.deliver_due()  # the invitations' notices
    transport.sent.clear()
    first = await world.post(SignalKind.NOISE)
    await world.post(SignalKind.VISITORS, by=world.coach)  # goes to the landlord
    second = await world.post(SignalKind.SMELL)
    transport.failures.append(RetryLater("flood", retry_after=30))
    await loop.deliver_due()
    # the first message to the coach failed: the second to the coach waits behind it
    assert not any(f"#{second}" in t for t in transport.texts("b"))
    assert transport.texts("l")  # other chats are not held up
    world.clock.advance(timedelta(seconds=29))
    await loop.deliver_due()
    assert not transport.texts("b")
    world.clock.advance(timedelta(seconds=1))
    await loop.deliver_due()
    # (three kinds within four weeks also made a household pattern: a third message)
    to_coach = [t for t in transport.texts("b") if t.startswith("New signal")]
    assert len(to_coach) == 2
    assert f"#{first}" in to_coach[0]
    assert f"#{second}" in to_coach[1]


async def test_a_permanent_failure_is_recorded_and_not_retried(world: World) -> None:
    transport = RecordingTransport()
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock)
    await loop.deliver_due()
    await world.post()
    transport.failures.append(PermanentFailure("blocked by the user"))
    attempts = transport.attempts
    await loop.deliver_due()
    failed = [r for r in await world.outbox() if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].last_error == "permanent: blocked by the user"
    # the coordinator is told, facts only; that report is the one other attempt
    assert transport.attempts == attempts + 2
    report = transport.sent[-1]
    assert report.chat_id == "c"
    assert report.text == "Een bericht aan B via Console kon niet worden afgeleverd " \
        "(het bericht werd geweigerd)."
    world.clock.advance(timedelta(days=1))
    await loop.deliver_due()
    assert transport.attempts == attempts + 2  # tried once, never again


async def test_gives_up_after_max_attempts(world: World) -> None:
    transport = RecordingTransport()
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock,
                        DeliverySettings(max_attempts=3))
    await loop.deliver_due()
    await world.post(SignalKind.NOISE)
    for _ in range(3):
        transport.failures.append(RetryLater("502"))
        await loop.deliver_due()
        world.clock.advance(timedelta(hours=1))
    statuses = [r.status for r in await world.outbox()]
    assert statuses.count("failed") == 1


async def test_delivered_text_is_kept_only_while_it_can_be_edited(world: World) -> None:
    transport = RecordingTransport()
    await DeliveryLoop(world.uow, {"console": transport}, world.clock).deliver_due()
    await world.post()
    await DeliveryLoop(world.uow, {"console": transport}, world.clock).deliver_due()
    rows = await world.outbox()
    assert all(r.text == "" for r in rows if not r.choices)
    assert any("private note" in r.text for r in rows if r.choices)


async def test_a_step_carried_out_twice_does_no_harm(world: World) -> None:
    await world.post()
    world.clock.advance(timedelta(hours=48))
    async with world.uow() as uow:
        steps = await uow.windows.due(world.clock.now(), 10)
    assert [s.kind.value for s in steps] == ["reminder", "lapse"]
    before = len(await world.outbox())
    for _ in range(2):
        for step in steps:
            async with world.uow() as uow:
                await deadlines.run_step(step, uow, world.ctx)
                await uow.commit()
    # the reminder, carried out only at the window's moment, says nothing (the lapse does);
    # the lapse to the coach and the landlord: two messages, not four
    assert len(await world.outbox()) == before + 2


async def test_two_runs_at_once_carry_each_step_out_once(world: World) -> None:
    for _ in range(5):
        await world.post(SignalKind.NOISE)
    world.clock.advance(timedelta(hours=49))
    before = len(await world.outbox())
    done = await asyncio.gather(deadlines.process_due(world.uow, world.ctx),
                                deadlines.process_due(world.uow, world.ctx))
    assert sum(done) == 10
    # past the lapse the reminders say nothing; each lapse tells the coach and the landlord
    assert len(await world.outbox()) == before + 10


async def test_steps_due_together_are_carried_out_in_one_transaction(world: World) -> None:
    for _ in range(5):
        await world.post(SignalKind.NOISE)
    world.clock.advance(timedelta(hours=49))
    before = len(await world.outbox())
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await deadlines.process_due(world.uow, world.ctx) == 10
    finally:
        event.remove(world.engine.sync_engine, "before_cursor_execute", count)
    # the ten steps claimed at once (one statement for the late ones, one for the others),
    # their windows, cases, members and absences read once: not a dozen statements a step
    claims = [s for s in statements if s.startswith("UPDATE deadlines")]
    assert 1 <= len(claims) <= 2
    assert len(statements) <= 25
    assert len(await world.outbox()) == before + 10
    async with world.uow() as uow:
        assert await uow.windows.due(world.clock.now(), 100) == []


async def test_steps_whose_transaction_fails_are_carried_out_one_at_a_time(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        await world.post(SignalKind.NOISE)
    world.clock.advance(timedelta(hours=49))
    before = len(await world.outbox())

    async def broken(*_args: object, **_kwargs: object) -> bool:
        raise RuntimeError("a step that fails together")

    monkeypatch.setattr(deadlines, "carry_out", broken)  # only the steps carried out together
    assert await deadlines.process_due(world.uow, world.ctx) == 6
    # nothing of the failed transaction stayed, each step ran once on its own
    assert len(await world.outbox()) == before + 6
    assert await deadlines.process_due(world.uow, world.ctx) == 0


async def test_acknowledging_stops_the_steps(world: World) -> None:
    signal_id = await world.post()
    async with world.uow() as uow:
        await signals.acknowledge(signals.AcknowledgeSignal(world.coach.id, signal_id), uow,
                                  world.ctx)
        await uow.commit()
        assert await uow.windows.next_due() is None
    world.clock.advance(timedelta(days=3))
    assert await deadlines.process_due(world.uow, world.ctx) == 0


async def test_invitation_codes_are_stored_only_as_hashes(world: World) -> None:
    async with world.uow() as uow:
        coordinator = await uow.persons.by_identity("console", "c")
        assert coordinator is not None
        issued = await cases.invite(InviteToRole(coordinator.id, world.case, Role.POLICE), uow,
                                    world.ctx)
        await uow.commit()
    plain = issued.code.replace("-", "")
    async with world.uow() as uow:
        rows = (await uow.session.execute(text("SELECT code_hash FROM invitations"))).all()
    assert rows
    assert all(plain not in row[0] and issued.code not in row[0] for row in rows)


async def test_an_invitation_works_once_and_expires(world: World) -> None:
    async with world.uow() as uow:
        coordinator = await uow.persons.by_identity("console", "c")
        assert coordinator is not None
        once = await cases.invite(InviteToRole(coordinator.id, world.case, Role.POLICE), uow,
                                  world.ctx)
        late = await cases.invite(InviteToRole(coordinator.id, world.case, Role.POLICE), uow,
                                  world.ctx)
        agent = await uow.persons.add(display_name="A", language="nl", transport="console",
                                      address="a", now=world.clock.now())
        await uow.commit()
    async with world.uow() as uow:
        joined = await cases.redeem(RedeemInvitation(agent.id, once.code), uow, world.ctx)
        assert joined.role is Role.POLICE
        await uow.commit()
    async with world.uow() as uow:
        with pytest.raises(cases.errors.InvalidInvitation):
            await cases.redeem(RedeemInvitation(world.coach.id, once.code), uow, world.ctx)
    world.clock.advance(timedelta(hours=72, seconds=1))
    async with world.uow() as uow:
        with pytest.raises(cases.errors.InvalidInvitation):
            await cases.redeem(RedeemInvitation(world.coach.id, late.code), uow, world.ctx)


async def test_apscheduler_wakes_for_the_earliest_deadline(world: World) -> None:
    """The real scheduler, on the real clock: a deadline already due is run at once when armed,
    without waiting for time."""
    ctx = ServiceContext(clock=SystemClock())
    scheduler = DeadlineScheduler(world.uow, ctx)
    world.clock.set(SystemClock().now() - timedelta(hours=49))
    await world.post()  # its reminder and lapse are in the (real) past
    await scheduler.start()
    # caught up at start; what is left is the escalation to the team lead, 24 h after the lapse
    assert scheduler.armed_for == world.clock.now() + timedelta(hours=72)
    rows = await world.outbox()
    assert sum("private note" in r.text for r in rows) >= 1

    world.clock.set(SystemClock().now() - timedelta(hours=47))
    await world.post(SignalKind.NOISE)  # reminder due an hour ago, lapse in an hour
    scheduler.ran.clear()
    scheduler.poke()
    await asyncio.wait_for(scheduler.ran.wait(), timeout=10)
    async with world.uow() as uow:
        assert scheduler.armed_for == await uow.windows.next_due()
    assert scheduler.armed_for is not None
    assert scheduler.armed_for > SystemClock().now()
    await scheduler.stop()


async def test_a_wake_up_during_a_run_is_not_lost(world: World) -> None:
    """APScheduler skips a job whose previous run still runs; a skipped one-shot wake-up would
    never come back. The job therefore only starts a run and returns at once."""
    scheduler = DeadlineScheduler(world.uow, world.ctx)
    await scheduler.start()
    await world.post()
    world.clock.advance(timedelta(hours=48))
    scheduler.ran.clear()
    async with scheduler._lock:  # a run in progress
        await asyncio.wait_for(scheduler._wake(), timeout=1)  # returns at once
        assert not scheduler.ran.is_set()
    await asyncio.wait_for(scheduler.ran.wait(), timeout=10)
    async with world.uow() as uow:
        assert await uow.windows.due(world.clock.now(), 10) == []
    await scheduler.stop()


#: the start of the late note (``deadline.late``) in each language
LATE_NOTE = ("Dit bericht komt te laat", "This message is late")


async def test_a_window_that_starts_in_the_past_is_not_late_through_the_bot(
        world: World) -> None:
    """A window whose start lies in the past (a complaint received days ago) lapses at once,
    without the note that the bot was down; a step the bot really carries out late has it."""
    signal_id = await world.post(SignalKind.NOISE)
    async with world.uow() as uow:
        case = await uow.cases.by_code(world.case)
        assert case is not None
        backdated = await windows.open_window(
            uow, world.ctx, case_id=case.id, norm=Norm.N1_SIGNAL_FOLLOW_UP, opened_by=None,
            signal_id=signal_id, start=world.clock.now() - timedelta(days=30))
        await uow.commit()
    before = len(await world.outbox())
    assert await deadlines.process_due(world.uow, world.ctx) >= 1
    lapse_notices = [r.text for r in (await world.outbox())[before:]]
    assert lapse_notices  # the landlord and the coach hear that it lapsed
    assert not [t for t in lapse_notices if any(note in t for note in LATE_NOTE)]
    async with world.uow() as uow:
        events = [e for e in await uow.timeline.of_case(case.id)
                  if e.data.get("window") == backdated.id and e.event == "window_lapsed"]
    assert [e.data.get("late") for e in events] == [False]

    # the first window's lapse, carried out an hour after its moment, is late and says so
    world.clock.advance(timedelta(hours=49))
    before = len(await world.outbox())
    assert await deadlines.process_due(world.uow, world.ctx) >= 1
    late = [r.text for r in (await world.outbox())[before:]]
    assert late
    assert all(any(note in t for note in LATE_NOTE) for t in late)


async def test_one_instance_goes_no_further_after_a_group_of_steps_failed(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one instance the due steps go group after group in due order; when a group fails
    even one step at a time, the groups after it wait for the next run (a window's
    escalation never goes before its lapse), and nothing runs on behind the failure."""
    for _ in range(3):
        await world.post(SignalKind.NOISE)
    world.clock.advance(timedelta(hours=49))
    monkeypatch.setattr(deadlines, "GROUP", 2)  # reminder and lapse of one window a group
    async with world.uow() as uow:
        due = await uow.windows.due(world.clock.now(), 100)
    failing = due[1].id  # the first window's lapse
    real = windows.carry_out

    async def carry_out(step: Any, *args: Any, **kwargs: Any) -> bool:
        if step.id == failing:
            raise RuntimeError("this step fails")
        return await real(step, *args, **kwargs)

    monkeypatch.setattr(deadlines, "carry_out", carry_out)
    monkeypatch.setattr(windows, "carry_out", carry_out)
    with pytest.raises(RuntimeError):
        await deadlines.process_due(world.uow, world.ctx, concurrency=1)
    await asyncio.sleep(0)  # anything left running would get its turn here
    async with world.uow() as uow:
        pending = {s.id for s in await uow.windows.due(world.clock.now(), 100)}
    # the failing lapse and both later windows' steps wait; only the first reminder ran
    assert pending == {s.id for s in due[1:]}


async def test_a_window_changed_meanwhile_is_seen_as_it_is_after_a_refused_save(
        world: World, database_url: str) -> None:
    """A save refused because another transaction changed the window first leaves the
    window in this unit of work as the database has it, not as the refused change made it:
    what follows (an escalation in the same group of steps) sees the real state."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises units of work: none can change the window meanwhile")
    signal_id = await world.post(SignalKind.NOISE)
    async with world.uow() as uow:
        (window,) = await uow.windows.for_signal(signal_id)
        await uow.windows.load({window.id})  # held in the session, as the steps hold it
        async with world.uow() as other:
            await other.session.execute(
                orm.WindowRow.__table__.update().where(orm.WindowRow.id == window.id)
                .values(status=WindowStatus.MET.value))
            await other.commit()
        lapsed, _ = window.lapse(world.clock.now())
        assert not await uow.windows.save(lapsed, was=WindowStatus.OPEN)
        seen = await uow.windows.get(window.id)
        assert seen is not None
        assert seen.status is WindowStatus.MET
