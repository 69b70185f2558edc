"""Data protection, typed into the console: every read of a case and every delivery is logged;
the coordinator exports a case's access log, a person what is stored about them; the
coordinator closes a case, and after the retention period its content is purged, leaving the
record that it existed. Both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.services import exports
from tests.support.harness import ConsoleHarness

LANDLORD, COACH = "Wilhelmina", "Bartholomeus"
NOTE = "huur oktober en november niet betaald"


@pytest.fixture
async def bot(database_url: str, clock: ManualClock) -> AsyncIterator[ConsoleHarness]:
    harness = ConsoleHarness(database_url, clock, {"retention": {
        "closed_case_after": "365d", "access_log_after": "400d"}})
    await harness.start()
    yield harness
    await harness.stop()


async def case_with_a_signal(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    await bot.join(LANDLORD, case, "verhuurder")
    await bot.join(COACH, case, "begeleider")
    await bot.type(f"/als {LANDLORD}")
    lines = await bot.type(f"/signaal {case} huurachterstand {NOTE}")
    if not any(NOTE in line for line in bot.to(COACH, lines)):
        lines = await bot.type("1")  # send the note that waited for the go-ahead
    assert any(NOTE in line for line in bot.to(COACH, lines)), lines
    await bot.type(f"/als {COACH}")
    await bot.type("/ok 1")
    return case


async def access_rows(bot: ConsoleHarness) -> list[orm.AccessLogRow]:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        return list((await uow.session.execute(
            select(orm.AccessLogRow).order_by(orm.AccessLogRow.id))).scalars())


async def count(bot: ConsoleHarness, model: type[orm.Base], case_id: int) -> int:
    assert bot.app is not None
    column = getattr(model, "case_id")  # noqa: B009 - every table counted has one
    async with bot.app.new_uow() as uow:
        value: int = (await uow.session.execute(
            select(func.count()).select_from(model).where(column == case_id))).scalar_one()
    return value


async def case_row(bot: ConsoleHarness, code: str) -> orm.Case:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        case = await uow.cases.by_code(code)
    assert case is not None
    return case


async def test_reads_and_deliveries_are_logged_and_exported(bot: ConsoleHarness) -> None:
    case = await case_with_a_signal(bot)
    code_id = (await case_row(bot, case)).id
    deliveries = [r for r in await access_rows(bot) if r.what == "delivery"]
    coach_deliveries = [r for r in deliveries if r.role == "coach"]
    assert coach_deliveries, deliveries
    assert all(r.case_id == code_id and r.purpose == "notification" for r in deliveries)
    assert bot.app is not None
    async with bot.app.new_uow() as uow:  # the subject is the outbox message delivered
        first = await uow.session.get(orm.OutboxRow, coach_deliveries[0].subject_id)
        assert first is not None
        assert first.status == "sent"
        assert first.person_id == coach_deliveries[0].person_id

    await bot.type(f"/als {COACH}")
    lines = await bot.type(f"/status {case}")
    assert bot.to(COACH, lines)
    status = [r for r in await access_rows(bot) if r.what == "status"]
    assert [(r.role, r.purpose, r.case_id) for r in status] == [("coach", "/status", code_id)]

    # the coordinator's export: who, role, what, why; nothing of the content
    await bot.type("/als Coordinator")
    lines = bot.to("Coordinator", await bot.type(f"/toegangslog {case}"))
    text = "\n".join(lines)
    assert f"Toegangslog van zaak {case}" in text
    assert re.search(rf"{COACH} \(begeleider\): stand van de zaak; doel: /status", text), text
    assert f"{COACH} (begeleider): bericht ontvangen; doel: melding" in text
    assert NOTE not in text
    assert [r.what for r in await access_rows(bot)][-1] == "access_log"

    await bot.type(f"/als {COACH}")
    lines = bot.to(COACH, await bot.type(f"/toegangslog {case}"))
    assert lines == ["Alleen de coördinator kan dat."]

    # what is stored about the landlord, for the landlord: hers only
    await bot.type(f"/als {LANDLORD}")
    lines = bot.to(LANDLORD, await bot.type("/mijngegevens"))
    text = "\n".join(lines)
    assert f"Naam: {LANDLORD}" in text
    assert f"console: {LANDLORD.lower()}" in text
    assert f"{case}: verhuurder, sinds" in text
    assert f"#1 in {case}: gemiste huurbetaling" in text
    assert f"Jouw toelichting: {NOTE}" in text
    assert "bericht ontvangen; doel: melding" in text  # her own deliveries
    assert COACH not in text  # nothing about other people
    last = (await access_rows(bot))[-1]
    assert (last.what, last.purpose, last.case_id) == ("personal_data", "/mijngegevens", None)

    # the coach's export lists the acknowledgement, in English when the coach reads English
    await bot.type(f"/als {COACH}")
    await bot.type("/taal en")
    text = "\n".join(bot.to(COACH, await bot.type("/mydata")))
    assert "Signals you acknowledged:" in text
    assert f"#1 in {case}" in text
    assert NOTE not in text  # the landlord's note is hers, not his
    assert LANDLORD not in text


async def test_a_long_access_log_comes_in_chat_sized_messages(bot: ConsoleHarness) -> None:
    case = await case_with_a_signal(bot)
    await bot.type(f"/als {COACH}")
    for _ in range(60):
        await bot.type(f"/status {case}")
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        coordinator = await uow.persons.by_identity("console", "coordinator")
        assert coordinator is not None
        parts = await exports.access_log_export(coordinator, case, uow, bot.app.ctx)
    assert len(parts) > 1
    assert all(len(part) < 3500 for part in parts)
    assert sum(part.count("stand van de zaak") for part in parts) == 60

    await bot.type("/als Coordinator")
    assert bot.app.console is not None
    before = bot.app.console._messages
    lines = bot.to("Coordinator", await bot.type(f"/accesslog {case}"))
    assert bot.app.console._messages - before == len(parts)  # one message per part
    assert sum("stand van de zaak" in line for line in lines) == 60


async def test_a_closed_case_is_purged_after_the_period_leaving_its_record(
        bot: ConsoleHarness) -> None:
    case = await case_with_a_signal(bot)
    other = await case_with_a_signal(bot)
    assert bot.app is not None
    case_id = (await case_row(bot, case)).id
    async with bot.app.new_uow() as uow:  # a linked chat and a proposal, to be purged too
        chat = await uow.case_chats.link(case_id, "console", "groep", 1, bot.clock.now())
        await uow.case_chats.seen(chat.id, 1, bot.clock.now())
        uow.session.add(orm.PatternProposal(case_id=case_id, proposed_at=bot.clock.now(),
                                            kinds="noise,smell"))
        await uow.commit()
    await bot.type(f"/als {COACH}")
    await bot.type(f"/termijn {case} N5")  # a running window, to be cancelled
    assert await count(bot, orm.WindowRow, case_id) >= 2

    await bot.type(f"/als {LANDLORD}")
    lines = await bot.type(f"/sluitzaak {case}")
    assert bot.to(LANDLORD, lines) == ["Alleen de coördinator kan dat."]
    await bot.type("/als Coordinator")
    lines = await bot.type(f"/sluitzaak {case}")
    reply = "\n".join(bot.to("Coordinator", lines))
    assert f"Zaak {case} is gesloten" in reply, lines
    assert "alleen de zaakcode en de data" in reply
    assert any(f"Zaak {case} is gesloten door de coördinator" in line
               for line in bot.to(COACH, lines)), lines
    assert any("gesloten" in line for line in bot.to(LANDLORD, lines)), lines
    async with bot.app.new_uow() as uow:
        assert await uow.windows.running(case_id=case_id) == []
        assert await uow.windows.running(case_id=(await case_row(bot, other)).id)
        events = [t.event for t in await uow.timeline.of_case(case_id)]
    assert events[-1] == "case_closed"
    closed = await case_row(bot, case)
    assert closed.closed_at == bot.clock.now()

    # nothing new goes in, and closing twice is refused
    await bot.type(f"/als {LANDLORD}")
    lines = await bot.type(f"/signaal {case} brievenbus")
    assert bot.to(LANDLORD, lines) == [f"Zaak {case} is gesloten: er kan niets meer bij."]
    await bot.type("/als Coordinator")
    lines = await bot.type(f"/uitnodigen {case} coach")
    assert bot.to("Coordinator", lines) == [f"Zaak {case} is gesloten: er kan niets meer bij."]
    lines = await bot.type(f"/closecase {case}")
    assert bot.to("Coordinator", lines) == [f"Zaak {case} is gesloten: er kan niets meer bij."]

    # a day before the period ends: nothing is purged
    await bot.advance(timedelta(days=364))
    purged = await bot.app.retention.run()
    assert (purged.cases, purged.access_log_rows) == ([], 0)
    assert await count(bot, orm.SignalRow, case_id) == 1

    await bot.advance(timedelta(days=1, seconds=1))
    access_before = [r for r in await access_rows(bot) if r.case_id == case_id]
    purged = await bot.app.retention.run()
    assert purged is not None
    assert purged.cases == [case]
    for model in (orm.SignalRow, orm.WindowRow, orm.TimelineRow, orm.Membership,
                  orm.Invitation, orm.OutboxRow, orm.CaseChat, orm.PatternProposal):
        assert await count(bot, model, case_id) == 0, model.__name__
    async with bot.app.new_uow() as uow:
        steps = (await uow.session.execute(select(func.count()).select_from(
            orm.DeadlineRow))).scalar_one()
        members = (await uow.session.execute(select(func.count()).select_from(
            orm.CaseChatMember))).scalar_one()
    assert members == 0
    assert steps > 0  # the other case keeps its deadlines
    record = await case_row(bot, case)
    assert (record.code, record.created_at, record.closed_at) == (
        case, closed.created_at, closed.closed_at)
    assert record.purged_at == bot.clock.now()
    # the access log keeps its rows for its own period
    assert [r.id for r in await access_rows(bot) if r.case_id == case_id] == [
        r.id for r in access_before]
    # the other case is whole
    other_id = (await case_row(bot, other)).id
    assert await count(bot, orm.SignalRow, other_id) == 1
    assert await count(bot, orm.Membership, other_id) == 2

    # running again purges nothing more; the coordinator still sees the case existed
    again = await bot.app.retention.run()
    assert again is not None
    assert again.cases == []
    await bot.type("/als Coordinator")
    lines = await bot.type("/zaken")
    assert any(case in line for line in bot.to("Coordinator", lines)), lines
    # the landlord no longer has the case
    await bot.type(f"/als {LANDLORD}")
    lines = await bot.type(f"/status {case}")
    assert any("geen zaak met code" in line for line in bot.to(LANDLORD, lines)), lines


async def test_access_log_rows_go_after_their_period(bot: ConsoleHarness) -> None:
    case = await case_with_a_signal(bot)
    await bot.type(f"/als {COACH}")
    await bot.type(f"/status {case}")
    old = len(await access_rows(bot))
    assert bot.app is not None
    await bot.advance(timedelta(days=300))
    await bot.type(f"/status {case}")
    assert len(await access_rows(bot)) == old + 1
    await bot.advance(timedelta(days=101))  # the first rows are 401 days old now
    purged = await bot.app.retention.run()
    assert purged is not None
    assert purged.access_log_rows == old
    rows = await access_rows(bot)
    assert [r.what for r in rows] == ["status"]


async def test_messages_of_no_case_go_after_their_period(bot: ConsoleHarness) -> None:
    """Answers to strangers, previews and digests belong to no case: they were never purged;
    now they go after [retention] caseless_messages_after (30 days), once delivered. A
    case's messages wait for their case; a message still pending stays."""
    assert bot.app is not None
    case = await case_with_a_signal(bot)
    await bot.type("/als Onbekende")
    await bot.type("/help")  # an answer to a stranger: no case
    async with bot.app.new_uow() as uow:
        caseless = (await uow.session.execute(select(func.count()).select_from(orm.OutboxRow)
                                              .where(orm.OutboxRow.case_id.is_(None)))
                    ).scalar_one()
        of_case = (await uow.session.execute(select(func.count()).select_from(orm.OutboxRow)
                                             .where(orm.OutboxRow.case_id.is_not(None)))
                   ).scalar_one()
    assert caseless > 0
    assert of_case > 0
    await bot.advance(timedelta(days=29))
    purged = await bot.app.retention.run()
    assert purged is not None
    assert purged.caseless_messages == 0
    # a message written now, and held (not yet delivered), stays after the period too
    async with bot.app.new_uow() as uow:
        await uow.outbox.add(transport="console", address="onbekende", text="later",
                             now=bot.clock.now(), not_before=bot.clock.now()
                             + timedelta(days=400))
        await uow.commit()
    await bot.advance(timedelta(days=2))
    purged = await bot.app.retention.run()
    assert purged is not None
    assert purged.caseless_messages == caseless
    async with bot.app.new_uow() as uow:
        left = list((await uow.session.execute(select(orm.OutboxRow.status).where(
            orm.OutboxRow.case_id.is_(None)))).scalars())
        still_of_case = (await uow.session.execute(select(func.count()).select_from(
            orm.OutboxRow).where(orm.OutboxRow.case_id.is_not(None)))).scalar_one()
    assert left == ["pending"]
    assert still_of_case == of_case
    assert case
