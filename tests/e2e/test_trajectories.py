"""A last-chance trajectory typed into the console, from the tenant's consent to a positive
closure after two years, with its evaluations opening by themselves (N10), and the process
monitor's view: agreements, evaluations and deadlines, never anything of the case's care.
Then rent arrears (N11): the debt help hears of a missed rent payment, facts only, and the
crisis team is alerted at an eviction judgment. Then the reflection after a closing (N12)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain.dossier import PROVIDERS
from bot.persistence import orm
from bot.privacy import Info
from tests.support.harness import ConsoleHarness

CARE = "ZORGGEHEIM7"
AGREEMENT = "AFSPRAAK3"
LEASE = "HUURCONTRACT9"
EVALUATION = "EVALUATIE5"
RENT = "HUURNOTITIE4"


async def _outbox_of(bot: ConsoleHarness, name: str) -> list[str]:
    """Everything that left the bot for this person: every line the console transport was
    handed for them since the start (a delivered row's text is erased from the outbox), and
    the text of every outbox row to them not delivered yet."""
    assert bot.app is not None
    handed = ConsoleHarness.to(name, bot.out.getvalue().splitlines())
    async with bot.app.new_uow() as uow:
        people = (await uow.session.execute(select(orm.Person))).scalars().all()
        ids = [p.id for p in people if p.display_name == name]
        rows = (await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.person_id.in_(ids)))).scalars().all()
        return handed + [row.text for row in rows if row.text]


async def _evaluation_due(bot: ConsoleHarness) -> datetime:
    """When the running evaluation window (N10) is due."""
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        return (await uow.session.execute(
            select(orm.WindowRow.due_at).where(orm.WindowRow.norm == "N10",
                                              orm.WindowRow.status == "open"))).scalar_one()


async def _trajectory_case(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    for name, role in (("Lotte", "verhuurder"), ("Bram", "begeleider"),
                       ("Tessa", "teamleider"), ("Mira", "procesmonitor"), ("Dirk", "deelnemer"),
                       ("Gert", "gemeente"), ("Piet", "wijkagent")):
        await bot.join(name, case, role)
    # a care concern, with its note sent: the care team's, never the monitor's
    await bot.type("/als Bram")
    await bot.type(f"/signaal {case} zorgsignaal {CARE} terugval in alcoholgebruik")
    lines = await bot.type("1")
    assert any(CARE in line for line in bot.to("Tessa", lines)), lines
    return case


async def test_last_chance_from_consent_to_positive_closure(bot: ConsoleHarness) -> None:
    case = await _trajectory_case(bot)

    await bot.type("/als Lotte")
    lines = await bot.type(f"/traject {case} laatstekans")
    assert any("laatstekanstraject aangemeld" in line for line in bot.to("Lotte", lines)), lines
    assert any("Nog nodig" in line and "instemming" in line for line in bot.to("Mira", lines))
    assert bot.to("Piet", lines) == []  # the police learn nothing of a trajectory

    await bot.type("/als Dirk")
    lines = await bot.type(f"/instemming {case} erkend")
    assert any("overlast erkend" in line for line in bot.to("Mira", lines)), lines

    await bot.type("/als Bram")
    lines = await bot.type(f"/afspraak {case} {AGREEMENT} wekelijks huisbezoek, hulp aanvaard")
    assert any(AGREEMENT in line for line in bot.to("Lotte", lines)), lines
    assert any(AGREEMENT in line for line in bot.to("Mira", lines)), lines
    assert any(AGREEMENT in line for line in bot.to("Dirk", lines)), lines
    # the municipality sees agreements redacted: that there is one, not what it says
    gert = bot.to("Gert", lines)
    assert gert, lines
    assert not any(AGREEMENT in line for line in gert), lines
    assert any("Nog nodig" in line and "huurovereenkomst" in line
               for line in bot.to("Bram", lines)), lines

    await bot.type("/als Lotte")
    lines = await bot.type(f"/huurcontract {case} {LEASE} Kerkstraat, ingang 1 december")
    assert any("gestart" in line for line in bot.to("Lotte", lines)), lines
    started = bot.to("Mira", lines)
    assert any(LEASE in line for line in started), lines
    assert any("laatstekanstraject is gestart" in line and "minimale duur" in line
               for line in started), lines

    # the monitor's view: the agreement, the lease, the deadline; never the care concern
    await bot.type("/als Mira")
    view = bot.to("Mira", await bot.type(f"/traject {case}"))
    assert any(AGREEMENT in line for line in view)
    assert any(LEASE in line for line in view)
    assert any("Volgende evaluatie" in line for line in view), view
    deadlines = bot.to("Mira", await bot.type("/termijnen"))
    assert any("evaluatie van het laatstekanstraject" in line for line in deadlines), deadlines
    lines = await bot.type(f"/trajectsluiten {case} positief")
    assert any("minimaal tot" in line for line in bot.to("Mira", lines)), lines

    # eight evaluations over two years: each window reminds the monitor, the evaluation
    # meets it, and the next one opens by itself
    for period in range(1, 9):
        due = await _evaluation_due(bot)
        lines = await bot.advance_to(due - timedelta(days=13))
        reminded = [line for line in bot.to("Mira", lines) if "Herinnering" in line]
        assert reminded, (period, lines)
        assert any("/evaluatie" in line for line in reminded), reminded  # not /gedaan
        # the monitor evaluates; every other time the coach does, and the monitor reads it
        evaluator, other = ("Mira", "Bram") if period % 2 == 0 else ("Bram", "Mira")
        await bot.type(f"/als {evaluator}")
        lines = await bot.type(f"/evaluatie {case} goed {EVALUATION}-{period} afspraken gehouden")
        said = bot.to(evaluator, lines)
        assert any(f"evaluatie {period} vastgelegd" in line for line in said), (period, lines)
        assert any("Volgende evaluatie" in line for line in said), (period, lines)
        assert any(f"{EVALUATION}-{period}" in line for line in bot.to(other, lines))
        assert not any(f"{EVALUATION}-{period}" in line for line in bot.to("Gert", lines))
        if period < 8:
            lines = await bot.advance_to(due + timedelta(hours=1))
            assert not any("verlopen" in line for line in bot.to("Mira", lines)), lines

    # the eighth evaluation fell two weeks before the two years: too early to close
    await bot.type("/als Mira")
    lines = await bot.type(f"/trajectsluiten {case} positief")
    assert any("minimaal tot" in line for line in bot.to("Mira", lines)), lines
    await bot.advance(timedelta(days=14))
    lines = await bot.type(f"/trajectsluiten {case} positief verhuisd en stabiel")
    assert any("positief afgesloten" in line for line in bot.to("Mira", lines)), lines
    assert any("positief afgesloten" in line for line in bot.to("Lotte", lines)), lines
    # the reflection follows: the monitor is asked at once, the others are invited
    assert any("Wat ging goed" in line for line in bot.to("Mira", lines)), lines
    assert any("/reflectie" in line for line in bot.to("Bram", lines)), lines
    assert bot.to("Dirk", lines)
    assert not any("/reflectie" in line for line in bot.to("Dirk", lines))
    await bot.type("De lijnen waren kort")
    await bot.type("Eerder de procesmonitor betrekken")
    await bot.type("Elk kwartaal samen evalueren")
    lines = await bot.type("1")
    assert any("Reflectie opgeslagen" in line for line in bot.to("Mira", lines)), lines
    view = bot.to("Mira", await bot.type(f"/traject {case}"))
    assert any("Afgesloten" in line for line in view), view
    assert not any("Volgende evaluatie" in line for line in view), view

    # no care marker ever reached the monitor, neither in a reply nor in the outbox; and the
    # monitor did receive the agreement and every evaluation
    mira = await _outbox_of(bot, "Mira")
    assert not any(CARE in text for text in mira)
    assert any(AGREEMENT in text for text in mira)
    assert all(any(f"{EVALUATION}-{p}" in text for text in mira) for p in range(1, 9, 2))
    police = await _outbox_of(bot, "Piet")
    assert not any(m in text for text in police for m in (AGREEMENT, LEASE, EVALUATION))
    async with bot.app.new_uow() as uow:  # type: ignore[union-attr]
        evaluations = (await uow.session.execute(
            select(orm.TrajectoryEvaluationRow))).scalars().all()
        assert [e.period for e in evaluations] == list(range(1, 9))
        windows = (await uow.session.execute(
            select(orm.WindowRow).where(orm.WindowRow.norm == "N10"))).scalars().all()
        assert [w.status for w in windows] == ["met"] * 8 + ["cancelled"]


async def test_breakthrough_track_and_negative_closure(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Bram")
    await bot.type(f"/traject {case} doorbraak")
    await bot.type(f"/instemming {case}")
    lines = await bot.type(f"/afspraak {case} verhuizen met begeleiding")
    # no monitor, no lease, no acknowledgement needed: it starts
    assert any("gestart" in line for line in bot.to("Bram", lines)), lines
    lines = await bot.type(f"/traject {case} laatstekans")
    assert any("al een lopend traject" in line for line in bot.to("Bram", lines)), lines
    await bot.type(f"/evaluatie {case} bijsturen meer begeleiding nodig")
    await bot.type("/als Lotte")
    lines = await bot.type(f"/trajectsluiten {case} negatief afspraken niet nagekomen")
    assert any("negatief afgesloten" in line for line in bot.to("Bram", lines)), lines
    # the landlord closed it and is asked to reflect; cancelling stores nothing
    assert any("Wat ging goed" in line for line in bot.to("Lotte", lines)), lines
    lines = await bot.type("/annuleer")
    assert any("geannuleerd" in line for line in bot.to("Lotte", lines)), lines
    # the nuisance file's provider lists the trajectory and its evaluation, unfiltered
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        found = await uow.cases.by_code(case)
        assert found is not None
        entries = await PROVIDERS["trajectories"](uow, found.id)
    by_ref = {entry.ref.split(":")[0] + ":" + entry.kind.value: entry for entry in entries}
    assert by_ref["trajectory:trajectory"].info is Info.AGREEMENT
    assert "verhuizen met begeleiding" in by_ref["trajectory:trajectory"].text
    assert by_ref["evaluation:evaluation"].info is Info.EVALUATION
    assert "meer begeleiding nodig" in by_ref["evaluation:evaluation"].text
    assert any(e.ref.endswith(":closure") and "niet nagekomen" in e.text for e in entries)


async def test_the_last_chance_waits_for_its_monitor(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Bram")
    await bot.type(f"/traject {case} laatstekans")
    await bot.type(f"/instemming {case} erkend")
    await bot.type(f"/afspraak {case} wekelijks huisbezoek")
    lines = await bot.type(f"/huurcontract {case} nieuwe huurovereenkomst")
    assert any("Nog nodig" in line and "procesmonitor" in line
               for line in bot.to("Bram", lines)), lines
    lines = await bot.type(f"/traject {case} start")
    assert any("procesmonitor" in line for line in bot.to("Bram", lines)), lines
    await bot.join("Mira", case, "procesmonitor")
    await bot.type("/als Bram")
    lines = await bot.type(f"/traject {case} start")
    assert any("gestart" in line for line in bot.to("Mira", lines)), lines
    assert any("Herinnering" in line for line in bot.to(
        "Mira", await bot.advance(timedelta(days=80)))), "the monitor is reminded first"


async def test_rent_arrears_reach_debt_help_and_a_judgment_alerts_the_crisis_team(
        bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    for name, role in (("Lotte", "verhuurder"), ("Bram", "begeleider"),
                       ("Sanne", "schuldhulp"), ("Kees", "crisisteam")):
        await bot.join(name, case, role)
    await bot.type("/als Lotte")
    lines = await bot.type(f"/signaal {case} geluid klacht van de buren")
    assert bot.to("Sanne", lines) == []
    assert bot.to("Kees", lines) == []
    lines = await bot.type(f"/signaal {case} huurachterstand {RENT} twee maanden")
    lines += await bot.type("1")  # the note goes to its readers
    sanne = bot.to("Sanne", lines)
    assert any("Nieuw signaal" in line and "gemiste huurbetaling" in line
               for line in sanne), lines
    assert not any(RENT in line for line in sanne), lines  # facts only
    assert bot.to("Kees", lines) == []  # the crisis team waits for a judgment
    # the debt help knows of the missed rent only, not of the noise complaint
    await bot.type("/als Sanne")
    status = bot.to("Sanne", await bot.type(f"/status {case}"))
    assert any("gemiste huurbetaling" in line for line in status), status
    assert not any("geluid" in line.lower() for line in status), status

    await bot.type("/als Lotte")
    lines = await bot.type(f"/vonnis {case}")
    assert any("crisisteam is gewaarschuwd" in line for line in bot.to("Lotte", lines)), lines
    kees = bot.to("Kees", lines)
    assert any("ontruimingsvonnis bij huurachterstand" in line for line in kees), lines
    assert not any(RENT in line for line in kees)
    assert any("ontruimingsvonnis" in line for line in bot.to("Bram", lines)), lines
    assert bot.to("Sanne", lines) == []
    for name in ("Sanne", "Kees"):
        assert not any(RENT in text or "buren" in text for text in await _outbox_of(bot, name))

    # closing the case asks for a reflection, worded for after an eviction
    await bot.type("/als Coordinator")
    lines = await bot.type(f"/sluitzaak {case}")
    assert any("na een ontruimingsvonnis" in line for line in bot.to("Bram", lines)), lines
    assert bot.to("Kees", lines)
    assert not any("/reflectie" in line for line in bot.to("Kees", lines))
    await bot.type("/als Bram")
    lines = await bot.type(f"/reflectie {case}")
    assert any("na een ontruimingsvonnis" in line and "Wat ging goed" in line
               for line in bot.to("Bram", lines)), lines
    for answer in ("Snel gewaarschuwd", "Schuldhulp eerder erbij", "Vonnis eerder delen"):
        await bot.type(answer)
    lines = await bot.type("1")
    assert any("Reflectie opgeslagen" in line for line in bot.to("Bram", lines)), lines
    async with bot.app.new_uow() as uow:  # type: ignore[union-attr]
        reflection = (await uow.session.execute(select(orm.ReflectionRow))).scalar_one()
        assert reflection.after_eviction
        assert reflection.subject == "case"


async def test_a_judgment_without_a_crisis_team_tells_the_coordinator(
        bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} huurachterstand")
    lines = await bot.type(f"/vonnis {case}")
    assert any("geen crisisteam" in line for line in bot.to("Lotte", lines)), lines
    assert any("geen crisisteam" in line for line in bot.to("Coordinator", lines)), lines
