"""The procedure's flows typed into the console, each a finding of issue 9 that failed before
its fix: need-to-know on the paths outside the renderings (stand-ins, reasons, the mediator),
actions that may happen once, and what a new user ran into."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.persistence import orm
from tests.support.harness import INVITE, ConsoleHarness, local


async def team(bot: ConsoleHarness, *extra: tuple[str, str]) -> str:
    case = await bot.new_case()
    for name, role in (("Lotte", "verhuurder"), ("Bram", "begeleider"),
                       ("Tara", "teamleider"), *extra):
        await bot.join(name, case, role)
    return case


def text(lines: list[str]) -> str:
    return "\n".join(lines)


async def as_(bot: ConsoleHarness, name: str, line: str) -> list[str]:
    await bot.type(f"/als {name}")
    return await bot.type(line)


async def access_of(bot: ConsoleHarness, what: str) -> list[orm.AccessLogRow]:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        return list((await uow.session.execute(
            select(orm.AccessLogRow).where(orm.AccessLogRow.what == what))).scalars())


# --- the leaks ------------------------------------------------------------------------------

async def test_a_backup_stands_in_only_where_their_role_in_that_case_may_see(
        bot: ConsoleHarness) -> None:
    case = await team(bot)
    other = await bot.new_case()
    await bot.join("Bram", other, "begeleider")
    await bot.join("Sanne", other, "begeleider")  # care team in another case …
    await bot.join("Sanne", case, "verhuurder")   # … and landlord in this one
    lines = await as_(bot, "Bram", "/afwezig 3d Sanne")
    assert "Sanne" in text(bot.to("Bram", lines))
    await as_(bot, "Tara", f"/signaal {case} zorgsignaal Slaapt slecht")
    # the reminder, 4 h before the lapse (held back until the end of the quiet hours)
    lines = await bot.advance(timedelta(hours=47))
    assert not any("zorgsignaal" in line for line in bot.to("Sanne", lines)), lines
    assert not bot.to("Sanne", lines)
    # the coach's backup may not see it here: the team lead stands in
    assert any("zorgsignaal" in line and "vervanging van Bram" in line
               for line in bot.to("Tara", lines)), lines


async def test_a_reason_reaches_the_waiting_partner_only_once_its_poster_lets_it(
        bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    lines = await as_(bot, "Bram", "/pauzeer T1 opname kliniek")
    # the care team reads it at once; the landlord waiting for the window does not
    assert any("opname kliniek" in line for line in bot.to("Tara", lines))
    to_lotte = text(bot.to("Lotte", lines))
    assert "gepauzeerd" in to_lotte
    assert "opname" not in to_lotte
    # its poster sees who else would read it, as for a note
    preview = text(bot.to("Bram", lines))
    assert "verhuurder (Lotte)" in preview
    assert "/reden T1 verstuur" in preview or "Versturen" in preview
    file = text(bot.to("Lotte", await as_(bot, "Lotte", f"/dossier {case}")))
    assert "opname" not in file
    lines = await as_(bot, "Bram", "/reden T1 verstuur")
    assert any("opname kliniek" in line for line in bot.to("Lotte", lines))
    assert "verhuurder (Lotte)" in text(bot.to("Bram", lines))
    # and now her file shows what she was sent; a second time there is nothing to let go
    file = text(bot.to("Lotte", await as_(bot, "Lotte", f"/dossier {case}")))
    assert "opname kliniek" in file
    assert "geen reden" in text(bot.to("Bram", await as_(bot, "Bram", "/reden T1 verstuur")))


async def test_a_reason_kept_in_the_care_team_never_reaches_the_partner(
        bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    await as_(bot, "Bram", "/verleng T1 2d wachten op de kliniek")
    lines = await as_(bot, "Bram", "/reden T1 zorgteam")
    assert "zorgteam" in text(bot.to("Bram", lines))
    assert bot.to("Lotte", lines) == []
    file = text(bot.to("Lotte", await as_(bot, "Lotte", f"/dossier {case}")))
    assert "kliniek" not in file


async def test_the_mediator_never_reads_a_professionals_name(bot: ConsoleHarness) -> None:
    case = await team(bot, ("Mia", "buurtbemiddeling"))
    lines = await as_(bot, "Mia", f"/signaal {case} dreigende_overlast")
    posted = text(bot.to("Mia", lines))
    assert "doorgegeven aan: begeleider" in posted
    assert "Bram" not in posted
    lines = await as_(bot, "Bram", "/ok 1")
    to_mia = text(bot.to("Mia", lines))
    assert "bevestigd" in to_mia
    assert "Bram" not in to_mia
    # the coach reads his own name where he may
    assert "Mia" in text(bot.to("Bram", await as_(bot, "Bram", "/bekijk 1")))


# --- actions that happen once, and only where they belong -----------------------------------

async def test_only_a_complaint_is_released_and_only_once(bot: ConsoleHarness) -> None:
    case = await team(bot, ("Dirk", "deelnemer"), ("Wout", "wijkagent"))
    await as_(bot, "Wout", f"/signaal {case} incident")
    await as_(bot, "Bram", f"/signaal {case} zorgsignaal Slaapt slecht")
    await as_(bot, "Lotte", f"/signaal {case} geluid")
    await bot.type("/als Bram")
    assert "geen klacht" in text(bot.to("Bram", await bot.type("/vrijgeven 1")))
    assert "geen klacht" in text(bot.to("Bram", await bot.type("/vrijgeven 2")))
    lines = await bot.type("/vrijgeven 3")
    assert "zichtbaar" in text(bot.to("Bram", lines))
    assert len(bot.to("Dirk", lines)) == 1
    lines = await bot.type("/vrijgeven 3")
    assert "al vrijgegeven" in text(bot.to("Bram", lines))
    assert bot.to("Dirk", lines) == []
    status = text(bot.to("Dirk", await as_(bot, "Dirk", f"/status {case}")))
    assert "zorgsignaal" not in status
    assert "politie" not in status.lower()


async def test_a_report_is_resolved_once_and_stays_resolved(bot: ConsoleHarness) -> None:
    case = await team(bot, ("Dirk", "deelnemer"))
    await bot.type("/als Dirk")
    await bot.type("/melden")
    for answer in ("1", "Buurman schreeuwt", "gisteren", "trappenhuis", "1"):
        await bot.type(answer)
    lines = await as_(bot, "Bram", "/afgehandeld 1")
    assert "afgehandeld" in text(bot.to("Bram", lines))
    assert len(bot.to("Dirk", lines)) == 1
    lines = await as_(bot, "Lotte", "/afgehandeld 1")
    assert "al afgehandeld" in text(bot.to("Lotte", lines))
    assert bot.to("Dirk", lines) == []
    await as_(bot, "Bram", "/ok 1")
    status = text(bot.to("Dirk", await as_(bot, "Dirk", f"/status {case}")))
    assert "afgehandeld" in status
    assert "in behandeling" not in status


async def test_a_tenants_own_signal_never_makes_a_household_pattern(
        bot: ConsoleHarness) -> None:
    case = await team(bot, ("Dirk", "deelnemer"))
    await as_(bot, "Lotte", f"/signaal {case} huur")
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    lines = await as_(bot, "Dirk", f"/signaal {case} anders")
    assert not any("overleg" in line.lower() for line in bot.to("Tara", lines)), lines


async def test_an_invitation_open_when_its_case_closes_leads_nowhere(
        bot: ConsoleHarness) -> None:
    case = await team(bot)
    await bot.type("/als Coordinator")
    code = bot.find(INVITE, await bot.type(f"/uitnodigen {case} wijkagent"))
    await bot.type(f"/sluitzaak {case}")
    lines = await as_(bot, "Wout", f"/start {code}")
    assert "Welkom" not in text(lines)
    assert "werkt niet" in text(bot.to("Wout", lines)) or "uitnodiging" in text(lines)
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        members = await uow.session.execute(select(orm.Membership))
        assert all(m.role != "police" for m in members.scalars())


async def test_deadlines_and_cases_are_access_logged(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    await as_(bot, "Bram", "/termijnen")
    await bot.type("/zaken")
    assert [r.purpose for r in await access_of(bot, "deadlines")] == ["/termijnen"]
    assert [r.purpose for r in await access_of(bot, "cases")] == ["/zaken"]


async def test_a_closed_case_shows_no_running_window(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    await as_(bot, "Coordinator", f"/sluitzaak {case}")
    status = text(bot.to("Bram", await as_(bot, "Bram", f"/status {case}")))
    assert "geannuleerd" in status
    assert "nog " not in status
    assert "open" not in status.split("\n", 1)[1]


# --- tried as a new user would --------------------------------------------------------------

async def test_everyone_the_report_preview_names_is_told(bot: ConsoleHarness) -> None:
    await team(bot, ("Dirk", "deelnemer"))
    await bot.type("/als Dirk")
    await bot.type("/melden")
    for answer in ("1", "Buurman schreeuwt", "gisteren"):
        await bot.type(answer)
    preview = text(bot.to("Dirk", await bot.type("trappenhuis")))
    assert "verhuurder (Lotte)" in preview
    assert "teamleider (Tara)" in preview
    lines = await bot.type("1")
    for name in ("Lotte", "Bram", "Tara"):
        assert bot.to(name, lines), name


async def test_a_reminder_past_its_window_is_not_sent_after_a_restart(
        bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    await bot.stop()
    bot.clock.advance(timedelta(hours=49))  # down past the reminder and the lapse
    await bot.start()
    lines = await bot.advance(timedelta(minutes=1))
    to_bram = text(bot.to("Bram", lines))
    assert "verlopen" in to_bram.lower()
    assert "herinnering" not in to_bram.lower()
    assert "geleden" not in to_bram


async def test_the_landlord_starts_only_the_norm_she_answers_for(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await bot.type("/als Lotte")
    for norm in ("N3", "N7"):
        answer = text(bot.to("Lotte", await bot.type(f"/termijn {case} {norm}")))
        assert "kan niet in jouw rol" in answer, answer
    lines = await bot.type(f"/termijn {case} N2")
    assert "gestart" in text(bot.to("Lotte", lines))
    # and her own N2 is in her file
    file = text(bot.to("Lotte", await bot.type(f"/dossier {case}")))
    assert "N2" in file or "klachtinformatie" in file.lower() or "informatie" in file.lower()
    assert "termijn" in file.lower()


async def test_a_daily_digest_time_is_for_those_who_get_one(bot: ConsoleHarness) -> None:
    await team(bot, ("Dirk", "deelnemer"))
    for name in ("Lotte", "Dirk"):
        answer = text(bot.to(name, await as_(bot, name, "/overzicht 07:45")))
        assert "alleen voor het zorgteam" in answer, answer
    assert "07:45" in text(bot.to("Bram", await as_(bot, "Bram", "/overzicht 07:45")))


async def test_an_extension_is_of_some_time_and_within_bounds(bot: ConsoleHarness) -> None:
    case = await team(bot)
    await as_(bot, "Lotte", f"/signaal {case} brievenbus")
    await bot.type("/als Bram")
    for zero in ("0d", "0h"):
        assert "geen termijn" in text(bot.to("Bram", await bot.type(
            f"/verleng T1 {zero} reden")))
    assert "ten hoogste 366 dagen" in text(bot.to("Bram", await bot.type(
        "/verleng T1 5y reden")))
    assert "verlengd" in text(bot.to("Bram", await bot.type("/verleng T1 1d reden")))


async def test_a_refusal_names_no_wrong_action(bot: ConsoleHarness) -> None:
    await team(bot)
    await bot.type("/als Lotte")
    for command in ("/bekijk 9", "/toelichting 9 verstuur", "/vrijgeven 9"):
        answer = text(bot.to("Lotte", await bot.type(command)))
        assert "bevestigen" not in answer
        assert "geen signaal #9" in answer


async def test_away_until_a_date_on_the_first_of_december(bot: ConsoleHarness) -> None:
    await team(bot)
    bot.clock.set(local(2026, 12, 1, 10, 0))
    await bot.type("/als Bram")
    answer = text(bot.to("Bram", await bot.type("/afwezig 1-12 Tara")))
    # today is no moment to be back; the examples offered work
    examples = re.findall(r"\b(2026-12-02|2-12)\b", answer)
    assert examples, answer
    for example in examples:
        assert "afwezig tot" in text(bot.to("Bram", await bot.type(
            f"/afwezig {example} Tara"))).lower()


async def test_quiet_hours_off_read_as_off(bot: ConsoleHarness) -> None:
    await team(bot)
    await bot.type("/als Bram")
    await bot.type("/stil uit")
    shown = text(bot.to("Bram", await bot.type("/stil")))
    assert "00:00" not in shown
    assert "geen stille uren" in shown


async def test_an_invitation_code_read_aloud_with_spaces_works(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    code = bot.find(INVITE, await bot.type(f"/uitnodigen {case} begeleider"))
    await bot.type("/als Bram")
    lines = await bot.type("/start " + code.replace("-", " ").lower())
    assert "Welkom" in text(bot.to("Bram", lines))


async def test_a_kind_without_its_case_asks_which_case(bot: ConsoleHarness) -> None:
    case = await team(bot)
    other = await bot.new_case()
    await bot.join("Lotte", other, "verhuurder")
    lines = bot.to("Lotte", await as_(bot, "Lotte", "/signaal brievenbus"))
    assert "onbekende zaak" not in text(lines).lower()
    assert case in text(lines)
    assert other in text(lines)
    # the choice carries the kind along
    lines = bot.to("Lotte", await bot.type("1"))
    assert "brievenbus vol" in text(lines)


async def test_a_case_code_read_aloud_with_a_space_works(bot: ConsoleHarness) -> None:
    case = await team(bot)
    spaced = "z " + case.split("-")[1].lower()
    status = text(bot.to("Lotte", await as_(bot, "Lotte", f"/status {spaced}")))
    assert f"Zaak {case}" in status
    lines = await bot.type(f"/signaal {spaced} brievenbus")
    assert "doorgegeven" in text(bot.to("Lotte", lines))
