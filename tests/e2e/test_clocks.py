"""All the guideline's clocks, typed into the console with an injected clock: each norm's
window lapses at its moment (working days, DST, calendar months), survives a restart, waits for
quiet hours, escalates step by step, can be paused, resumed and extended with a reason, goes to
a backup while its person is away, and moves when the configuration changes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain.clock import ManualClock
from bot.persistence import orm
from tests.support.harness import AMS, ConsoleHarness, local


async def team(bot: ConsoleHarness, *, lead: bool = True) -> str:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    if lead:
        await bot.join("Tara", case, "teamleider")
    return case


async def window_due(bot: ConsoleHarness, number: int) -> datetime:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        row = await uow.windows.row(number)
        assert row is not None
        return row.due_at


def number_of(lines: list[str]) -> int:
    match = re.search(r"\bT(\d+)\b", "\n".join(lines))
    assert match is not None, lines
    return int(match.group(1))


# (norm typed, start (local), expected due (local))
CLOCKS = [
    ("N2", local(2026, 11, 23, 10, 0), local(2026, 11, 24, 10, 0)),
    # one working day: Friday afternoon → Monday afternoon
    ("N3", local(2026, 11, 27, 15, 0), local(2026, 11, 30, 15, 0)),
    # Christmas Eve (Thursday) → Monday 28th: 25 and 26 December are holidays, then a weekend
    ("N3", local(2026, 12, 24, 11, 0), local(2026, 12, 28, 11, 0)),
    # four calendar weeks across the end of summer time: still 09:00 local
    ("N5", local(2026, 10, 13, 9, 0), local(2026, 11, 10, 9, 0)),
    ("N6", local(2026, 3, 2, 9, 0), local(2026, 4, 13, 9, 0)),
    # three months, clamped to the month's end
    ("N7", local(2026, 11, 30, 14, 0), local(2027, 2, 28, 14, 0)),
    ("N10", local(2026, 11, 23, 10, 0), local(2027, 2, 23, 10, 0)),
    ("N10min", local(2026, 11, 23, 10, 0), local(2028, 11, 23, 10, 0)),
    ("N12", local(2026, 11, 23, 10, 0), local(2027, 11, 23, 10, 0)),
]


@pytest.mark.parametrize(("norm", "start", "due"), CLOCKS)
async def test_each_norm_has_its_clock_and_survives_restarts(
        database_url: str, norm: str, start: datetime, due: datetime) -> None:
    bot = ConsoleHarness(database_url, ManualClock(start - timedelta(hours=1)))
    await bot.start()
    try:
        case = await team(bot)
        bot.clock.set(start)
        await bot.type("/als Bram")
        number = number_of(bot.to("Bram", await bot.type(f"/termijn {case} {norm}")))
        assert await window_due(bot, number) == due

        # a restart halfway: nothing is lost, nothing comes early, the reminder comes on time
        halfway = start + (due - start) / 2
        await bot.advance_to(halfway)
        await bot.restart()
        assert bot.app is not None
        assert bot.app.scheduler.armed_for is not None
        assert bot.app.scheduler.armed_for > halfway

        # down across the lapse: at start-up the lapse comes at once, once, marked late
        await bot.stop()
        bot.clock.set(due + timedelta(hours=2))
        await bot.start()
        lines = bot.new_output()
        who = "Tara" if norm == "N12" else "Bram"  # the yearly evaluation is the team lead's
        lapses = [line for line in bot.to(who, lines) if "Termijn verlopen" in line]
        assert len(lapses) == 1, lines
        assert "te laat" in "\n".join(bot.to(who, lines))
        await bot.restart()
        assert not any("Termijn verlopen" in line for line in bot.new_output())
    finally:
        await bot.stop()


async def test_a_24_hour_window_across_dst_lasts_24_real_hours(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 10, 24, 12, 0))  # Saturday; clocks go back on Sunday at 03:00
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} geluid")
    due = await window_due(bot, 1)
    assert due - bot.clock.now() == timedelta(hours=48)
    assert due.astimezone(AMS).hour == 11  # 12:00 + 48 real hours is 11:00 after the change


async def test_the_escalation_chain_end_to_end(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 14, 0))
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} huurachterstand Twee maanden achter")

    lines = await bot.advance_to(local(2026, 11, 25, 10, 0))  # 4 hours before the lapse
    assert [who for who in ("Bram", "Lotte", "Tara", "Coordinator") if bot.to(who, lines)] == [
        "Bram"]
    assert "Herinnering" in bot.to("Bram", lines)[0]

    lines = await bot.advance_to(local(2026, 11, 25, 14, 0))  # the lapse
    assert any("Termijn verlopen" in line for line in bot.to("Bram", lines))
    assert any("Termijn verlopen" in line for line in bot.to("Lotte", lines))
    assert bot.to("Tara", lines) == []

    lines = await bot.advance_to(local(2026, 11, 26, 14, 0))  # 24 hours on: the team lead
    assert [w for w in ("Bram", "Lotte", "Tara", "Coordinator") if bot.to(w, lines)] == ["Tara"]
    assert "Escalatie" in bot.to("Tara", lines)[0]

    lines = await bot.advance_to(local(2026, 11, 28, 14, 0))  # 72 hours on: the coordinator
    told = bot.to("Coordinator", lines)
    assert len(told) == 1
    assert "Escalatie" in told[0]
    assert "achter" not in told[0]  # no content for the coordinator
    assert "huur" not in told[0]
    assert await bot.advance(timedelta(days=30)) == []


async def test_a_met_window_stops_its_chain(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 14, 0))
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} geluid")
    await bot.advance_to(local(2026, 11, 25, 15, 0))  # lapsed an hour ago
    await bot.type("/als Bram")
    lines = await bot.type("/ok 1")
    assert any("termijn was al verlopen" in line for line in bot.to("Bram", lines))
    assert await bot.advance(timedelta(days=5)) == []  # no team lead, no coordinator


async def test_nudges_wait_for_the_end_of_quiet_hours(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 3, 0))  # a signal at 03:00: the reminder is due Tue 23:00
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    assert await bot.advance_to(local(2026, 11, 24, 23, 0)) == []
    assert await bot.advance_to(local(2026, 11, 25, 7, 29)) == []
    # the lapse at 03:00 did not break the quiet hours either: both come at 07:30
    lines = await bot.advance_to(local(2026, 11, 25, 7, 30))
    to_bram = "\n".join(bot.to("Bram", lines))
    assert "Herinnering" in to_bram
    assert "Termijn verlopen" in to_bram
    # the window itself kept running: it lapsed at 03:00
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        row = await uow.windows.row(1)
        assert row is not None
        assert row.status == "lapsed"
        assert row.closed_at == local(2026, 11, 25, 3, 0)


async def test_own_quiet_hours_and_an_urgent_lapse(database_url: str, clock: ManualClock
                                                   ) -> None:
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        case = await team(bot)
        await bot.type("/als Lotte")
        assert "20:00" in "\n".join(await bot.type("/stil 20:00-08:00"))
        bot.clock.set(local(2026, 11, 23, 21, 0))  # N2: the landlord's information in 24 h
        await bot.type(f"/termijn {case} N2")
        # the reminder at 17:00 is outside Lotte's quiet hours
        lines = await bot.advance_to(local(2026, 11, 24, 17, 0))
        assert any("Herinnering" in line for line in bot.to("Lotte", lines))
        # the lapse at 21:00 falls in her quiet hours, but N2's lapse is urgent by default
        lines = await bot.advance_to(local(2026, 11, 24, 21, 0))
        assert any("Termijn verlopen" in line for line in bot.to("Lotte", lines))
    finally:
        await bot.stop()


async def test_pause_resume_and_extend_need_a_reason(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 10, 0))
    await bot.type("/als Bram")
    number = number_of(bot.to("Bram", await bot.type(f"/termijn {case} vierwekencheck")))
    due = await window_due(bot, number)
    assert "reden" in "\n".join(await bot.type(f"/pauzeer T{number}"))
    await bot.type("/als Lotte")  # not responsible: learns nothing about it
    assert "geen termijn" in "\n".join(await bot.type(f"/pauzeer T{number} zomaar"))

    await bot.type("/als Bram")
    lines = await bot.type(f"/pauzeer T{number} deelnemer opgenomen")
    assert any("gepauzeerd" in line for line in bot.to("Bram", lines))
    # the team lead is told, with the reason; the chain is stopped meanwhile
    assert any("deelnemer opgenomen" in line for line in bot.to("Tara", lines))
    assert await bot.advance(timedelta(days=40)) == []
    lines = await bot.type(f"/hervat T{number}")
    assert any("loopt weer" in line for line in bot.to("Bram", lines))
    assert await window_due(bot, number) == due + timedelta(days=40)

    lines = await bot.type(f"/verleng T{number} 1w gesprek verzet")
    assert any("verlengd" in line for line in bot.to("Bram", lines))
    assert await window_due(bot, number) == due + timedelta(days=47)
    assert "geen termijn" in "\n".join(await bot.type("/verleng T999 1w reden"))
    assert "termijn" in "\n".join(await bot.type(f"/verleng T{number} soon reden"))
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        events = [(r.event, r.data.get("reason")) for r in
                  (await uow.session.execute(select(orm.TimelineRow))).scalars()]
    assert ("window_paused", "deelnemer opgenomen") in events
    assert ("window_extended", "gesprek verzet") in events


async def test_nudges_go_to_the_backup_while_away(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await bot.join("Sanne", case, "coach")
    bot.clock.set(local(2026, 11, 23, 14, 0))
    await bot.type("/als Bram")
    lines = await bot.type("/afwezig 3d")
    assert any("Wie vervangt" in line for line in bot.to("Bram", lines))
    lines = await bot.type("/afwezig 3d Sanne")
    assert any("Sanne" in line for line in bot.to("Bram", lines))
    assert any("afwezig" in line for line in bot.to("Sanne", lines))
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} stank")
    lines = await bot.advance_to(local(2026, 11, 25, 10, 0))
    assert bot.to("Bram", [line for line in lines if "Herinnering" in line]) == []
    sanne = [line for line in bot.to("Sanne", lines) if "Herinnering" in line]
    assert len(sanne) == 1
    assert "vervanging van Bram" in sanne[0]


async def test_changing_a_norm_moves_the_open_windows(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 10, 0))
    await bot.type("/als Bram")
    number = number_of(bot.to("Bram", await bot.type(f"/termijn {case} N5")))
    assert await window_due(bot, number) == local(2026, 12, 21, 10, 0)
    await bot.stop()
    bot.configure({}, four_week_check="5w", four_week_check_reminder="1d")
    await bot.start()
    assert await window_due(bot, number) == local(2026, 12, 28, 10, 0)
    lines = await bot.advance_to(local(2026, 12, 27, 10, 0))
    assert any("Herinnering" in line for line in bot.to("Bram", lines))


async def test_my_windows_soonest_first(bot: ConsoleHarness) -> None:
    case = await team(bot)
    bot.clock.set(local(2026, 11, 23, 10, 0))
    await bot.type("/als Bram")
    await bot.type(f"/termijn {case} N6")
    await bot.type(f"/termijn {case} N5")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} geluid")
    await bot.type("/als Bram")
    lines = bot.to("Bram", await bot.type("/termijnen"))
    assert lines[0] == "Termijnen die op jou wachten:"
    assert "signaal #1" in lines[1]
    assert "2 dagen" in lines[1]
    assert "vierwekencheck" in lines[2]
    assert "zesweken" in lines[3].lower() or "zes weken" in lines[3]
    await bot.type("/als Lotte")
    lines = bot.to("Lotte", await bot.type("/termijnen"))
    assert lines[0] == "Termijnen waarop jij wacht:"
    assert len(lines) == 2


async def test_a_window_shorter_than_the_night_does_not_wait_for_morning(
        database_url: str, clock: ManualClock) -> None:
    """A deployment that agrees a window of minutes means it: its nudges break quiet hours."""
    bot = ConsoleHarness(database_url, clock, signal_follow_up="30m",
                         signal_follow_up_reminder="10m")
    await bot.start()
    try:
        case = await team(bot)
        bot.clock.set(local(2026, 11, 23, 23, 0))
        await bot.type("/als Lotte")
        await bot.type(f"/signaal {case} geluid")
        lines = await bot.advance_to(local(2026, 11, 23, 23, 20))
        assert any("Herinnering" in line for line in bot.to("Bram", lines))
        lines = await bot.advance_to(local(2026, 11, 23, 23, 30))
        assert any("Termijn verlopen" in line for line in bot.to("Bram", lines))
    finally:
        await bot.stop()


async def test_a_window_completed_twice_says_so_in_words(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await bot.type("/als Bram")
    number = number_of(bot.to("Bram", await bot.type(f"/termijn {case} N5")))
    assert any("Afgerond" in line for line in bot.to("Bram", await bot.type(f"/gedaan T{number}")))
    again = bot.to("Bram", await bot.type(f"/pauzeer T{number} toch even wachten"))
    assert again == [f"Termijn T{number} loopt niet (meer): afgerond."]
