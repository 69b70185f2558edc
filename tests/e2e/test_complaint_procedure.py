"""The complaint procedure, typed into the console from intake to the court file (issue 11):
intake by the landlord, the team's feedback (action 1), the assessment in each of the four
cells of the table with its follow-ups (action 2), the four-week check with three answers, the
six-week check, a second complaint that proposes action 3, the warning letter, the second
warning, the summons and the court's conditions, and the nuisance marked resolved by both
sides. The windows N2, N3, N5, N6 and N7 open and close by themselves at their steps: nobody
types /termijn."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader
from sqlalchemy import select

from bot import assets
from bot.domain import dossier
from bot.domain.clock import ManualClock
from bot.domain.dossier import EntryKind
from bot.domain.model import Role
from bot.persistence import orm
from bot.privacy import DEFAULT, Info, Visibility
from tests.support.harness import ConsoleHarness

DESCRIPTION = "Harde muziek tot twee uur in de nacht"
COMPLAINANT = "buurvrouw Jansen van nummer 12"


@pytest.fixture
async def bot(database_url: str, clock: ManualClock, tmp_path: Path
              ) -> AsyncIterator[ConsoleHarness]:
    """The console bot, writing the exported files into this test's own folder."""
    harness = ConsoleHarness(database_url, clock, sections={
        "dossier": {"console_dir": str(tmp_path / "exports")}})
    await harness.start()
    yield harness
    await harness.stop()


def whole(lines: list[str], test: Callable[[str], bool]) -> bool:
    """A test of what a person received, read as one text (a message spans lines)."""
    return test("\n".join(lines))


async def windows(bot: ConsoleHarness) -> dict[str, list[str]]:
    """Each norm's windows' states, in the order they were opened."""
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        rows = (await uow.session.execute(select(orm.WindowRow).order_by(orm.WindowRow.id))
                ).scalars().all()
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.norm, []).append(row.status)
    return out


async def open_tasks(bot: ConsoleHarness) -> list[tuple[str, str]]:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        rows = (await uow.session.execute(
            select(orm.TaskRow).where(orm.TaskRow.done_at.is_(None)).order_by(orm.TaskRow.id))
                ).scalars().all()
    return [(row.kind, row.owner_role) for row in rows]


async def setting(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.join("Pieter", case, "wijkagent")
    await bot.join("Gea", case, "gemeente")
    return case


async def test_from_intake_to_the_court_file(bot: ConsoleHarness, tmp_path: Path) -> None:
    case = await setting(bot)
    typed: list[str] = []

    async def say(name: str, line: str) -> list[str]:
        typed.append(line)
        await bot.type(f"/als {name}")
        return await bot.type(line)

    # --- intake: N2 (from the landlord's receipt) met at once, N3, N5, N7 open -----------
    lines = await say("Lotte", f"/klacht {case} geluid | gisteren 23:00 | vandaag 08:30 | "
                               f"klager: {COMPLAINANT} | {DESCRIPTION}")
    to_lotte, to_bram = bot.to("Lotte", lines), bot.to("Bram", lines)
    assert whole(to_lotte, lambda line: "Klacht K1" in line and "begeleider" in line), lines
    assert whole(to_lotte, lambda line: "/klagercontact K1" in line), lines  # confirm receipt
    assert whole(to_bram, lambda line: "Nieuwe klacht K1" in line and DESCRIPTION in line), lines
    assert whole(to_bram, lambda line: "bekend bij de verhuurder" in line), lines
    assert not whole(to_bram, lambda line: "Jansen" in line), lines
    assert bot.to("Pieter", lines) == []
    assert bot.to("Gea", lines) == []
    state = await windows(bot)
    assert state["N2"] == ["met"]
    assert state["N3"] == ["open"]
    assert state["N5"] == ["open"]
    assert state["N7"] == ["open"]
    assert state["N7c"] == ["open"]
    assert ("confirm_receipt", "landlord") in await open_tasks(bot)

    # --- action 1: the coach says how; N3 met; the landlord gets the feedback ----------------
    lines = await say("Bram", "/aanpak K1 Ik spreek de deelnemer morgen en koppel terug")
    assert whole(bot.to("Lotte", lines), lambda line: "Ik spreek de deelnemer morgen" in line)
    assert (await windows(bot))["N3"] == ["met"]
    lines = await say("Lotte", "/klagercontact K1")
    assert whole(bot.to("Lotte", lines), lambda line: "tijdlijn" in line), lines
    assert (await windows(bot))["N7c"] == ["met", "open"]  # the next interval runs
    assert ("confirm_receipt", "landlord") not in await open_tasks(bot)

    # --- action 2, cell 'unconscious, justified': N6 opens; a noise measurement -----------
    lines = await say("Bram", "/beoordeling K1 onbewust terecht terecht Wist niet dat het "
                              "zo gehoord werd")
    to_bram, to_lotte = bot.to("Bram", lines), bot.to("Lotte", lines)
    assert whole(to_bram, lambda line: "onbewust gedrag" in line), lines
    assert whole(to_bram, lambda line: "ondersteuningsplan" in line), lines
    assert whole(to_bram, lambda line: "zesweken" in line.lower()), lines
    assert whole(to_lotte, lambda line: "de klager informeren" in line), lines
    assert (await windows(bot))["N6"] == ["open"]
    tasks = await open_tasks(bot)
    assert ("six_week_ask_landlord", "coach") in tasks
    assert ("six_week_ask_complainant", "landlord") in tasks
    lines = await say("Bram", "/geluidsmeting K1")
    assert whole(bot.to("Lotte", lines), lambda line: "geluidsmeting" in line), lines

    # --- the four-week check: one action, three partners, three answers: N5 met -------------
    await bot.advance(timedelta(weeks=3, days=5))
    lines = await say("Bram", "/navraag K1")
    for name in ("Lotte", "Pieter", "Gea"):
        assert whole(bot.to(name, lines), lambda line: "nieuwe meldingen" in line), (name, lines)
    assert not whole(bot.to("Gea", lines), lambda line: "geluid" in line), lines
    await say("Lotte", "/antwoord K1 geen")
    await say("Pieter", "/antwoord K1 nieuw")
    assert (await windows(bot))["N5"] == ["open"]
    lines = await say("Gea", "/antwoord K1 geen")
    assert whole(bot.to("Bram", lines), lambda line: "Iedereen heeft geantwoord" in line), lines
    assert (await windows(bot))["N5"] == ["met"]

    # --- the six-week check: N6 met when the landlord answers ---------------------------------
    await bot.advance(timedelta(weeks=2))
    await say("Bram", "/navraag K1 6")
    lines = await say("Lotte", "/antwoord K1 niet_opgelost")
    assert whole(bot.to("Bram", lines), lambda line: "Niet opgelost" in line), lines
    assert (await windows(bot))["N6"] == ["met"]

    # --- a second, similar complaint: conscious and justified; action 3 is proposed -----------
    lines = await say("Lotte", f"/klacht {case} geluid | vandaag 01:00 | nu | anoniem | "
                               "Weer harde muziek")
    assert (await windows(bot))["N7"] == ["open"]  # N7 runs from the first complaint
    await say("Bram", "/aanpak K2 Gesprek vandaag")
    lines = await say("Bram", "/beoordeling K2 bewust terecht terecht")
    assert whole(bot.to("Lotte", lines), lambda line: "actie 3" in line), lines
    assert whole(bot.to("Bram", lines), lambda line: "actie 3" in line), lines
    tasks = await open_tasks(bot)
    assert ("normal_behaviour_tools", "coach") in tasks
    assert ("agree_complainant_actions", "landlord") in tasks

    # the other two cells
    await say("Lotte", f"/klacht {case} stank | vandaag 07:00 | nu | anoniem | Stank in hal")
    await say("Bram", "/aanpak K3 Gesprek")
    lines = await say("Bram", "/beoordeling K3 bewust onterecht terecht")
    assert whole(bot.to("Bram", lines), lambda line: "zienswijze" in line), lines
    await say("Lotte", f"/klacht {case} bezoek | vandaag 07:30 | nu | anoniem | Veel bezoek")
    await say("Bram", "/aanpak K4 Gesprek")
    lines = await say("Bram", "/beoordeling K4 onbewust onterecht onterecht")
    assert whole(bot.to("Bram", lines), lambda line: "burenrelatie" in line), lines
    assert whole(bot.to("Bram", lines), lambda line: "buurtbemiddeling" in line), lines
    assert (await windows(bot))["N6"] == ["met"]  # no new N6 for these cells

    # --- the ladder: warning, second warning (legal advice required), summons, court ----------
    lines = await say("Lotte", f"/brief {case} 3 vandaag")
    assert whole(bot.to("Lotte", lines), lambda line: "B1 · actie 3 · waarschuwingsbrief" in line)
    assert whole(bot.to("Lotte", lines), lambda line: "politie" in line), lines  # the advice
    assert whole(bot.to("Bram", lines), lambda line: "waarschuwingsbrief" in line), lines
    assert ("discuss_letter", "coach") in await open_tasks(bot)
    lines = await say("Lotte", f"/brief {case} 4 vandaag kopieen")
    assert whole(bot.to("Lotte", lines), lambda line: "juridisch advies" in line), lines
    await say("Lotte", f"/brief {case} 4 vandaag kopieen juridisch overleg:politie,gemeente")
    lines = await say("Lotte", f"/brief {case} 5 vandaag aangetekend voorgezien juridisch "
                               "kopieen advies_politie advies_bereikbaar")
    assert whole(bot.to("Lotte", lines),
                 lambda line: "aangetekend" in line and "voor gezien" in line), lines
    await say("Bram", f"/interventie {case} 1 | Begeleiding opgeschaald naar dagelijks")
    lines = await say("Lotte", f"/brief {case} 6 vandaag juridisch kopieen afspraken")
    court = [line for line in bot.to("Lotte", lines) if "✓" in line or "✗" in line]
    assert len(court) == 3, lines
    assert all("✓" in line for line in court), lines
    lines = await say("Lotte", f"/klachten {case}")
    assert sum("B" in line and "actie" in line for line in bot.to("Lotte", lines)) >= 4

    # --- N7: met when the landlord AND the team have marked it resolved ---------------------
    await say("Lotte", f"/opgelost {case}")
    assert (await windows(bot))["N7"] == ["open"]
    lines = await say("Bram", f"/opgelost {case}")
    assert whole(bot.to("Lotte", lines), lambda line: "opgelost" in line), lines
    state = await windows(bot)
    assert state["N7"] == ["met"]
    assert state["N7c"][-1] == "cancelled"  # no more reminders to contact the complainant
    assert not any(line.startswith(("/termijn ", "/window ")) for line in typed)

    # --- the nuisance file's entries of this procedure: each complaint its own entry --------
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        found = await uow.cases.by_code(case)
        assert found is not None
        entries = await dossier.PROVIDERS["complaints"](uow, found.id)
    kinds = [e.kind for e in entries]
    assert kinds.count(EntryKind.COMPLAINT) == 4
    assert kinds.count(EntryKind.ASSESSMENT) == 4
    assert kinds.count(EntryKind.LETTER) == 4  # the refused one is not there
    assert kinds.count(EntryKind.CORRESPONDENCE) == 4  # three four-week answers, one six-week
    assert {e.ref.split(":")[0] for e in entries} == {
        "complaint", "handling", "assessment", "letter", "intervention", "check"}
    assert len({e.ref for e in entries}) == len(entries)
    classes = {e.kind: e.info for e in entries}
    assert classes[EntryKind.COMPLAINT] is Info.COMPLAINT
    assert classes[EntryKind.ASSESSMENT] is Info.ASSESSMENT
    assert classes[EntryKind.LETTER] is Info.LETTER
    assert classes[EntryKind.INTERVENTION] is Info.CARE
    assert all(e.supplied_by is not None for e in entries)
    assert not any("Jansen" in " ".join((e.text, *e.facts, *e.extra.values()))
                   for e in entries)  # the complainant's identity is not in the file

    # --- the court file: the letter's PDF attached to its entry, then the copies exported ----
    await court_file(bot, case, say, tmp_path)
    assert not any(line.startswith(("/termijn", "/window")) for line in typed)


CARE_NOTE = "Slaapt slecht SLEEPMARKER"  # a care concern's note (class care)
INTERVENTION_NOTE = "Begeleiding opgeschaald naar dagelijks"  # an intervention's (care)
COMPLAINTS = (DESCRIPTION, "Weer harde muziek", "Stank in hal", "Veel bezoek")
#: a complaint's heading in the Markdown: its own date, then the kind
COMPLAINT_HEADING = re.compile(r"^## \S+ \d{1,2} \S+ \d{4} \d\d:\d\d · klacht$", re.M)


def letter_pdf() -> bytes:
    """The warning letter as the landlord scanned it: a real PDF."""
    pdf = FPDF()
    pdf.add_font("sans", "", str(assets.SANS))
    pdf.add_page()
    pdf.set_font("sans", "", 12)
    pdf.cell(0, 10, "Waarschuwingsbrief: u veroorzaakt overlast")
    return bytes(pdf.output())


def written(lines: list[str]) -> Path:
    found = re.search(r"\(document opgeslagen in (.+)\)", "\n".join(lines))
    assert found, lines
    return Path(found.group(1))


def pdf_text(path: Path) -> str:
    assert path.read_bytes().startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


async def court_file(bot: ConsoleHarness, case: str,
                     say: Callable[[str, str], Awaitable[list[str]]], tmp_path: Path) -> None:
    """After the summons: the letter's PDF attached to "letter:<id>", a care concern on record,
    and the file exported as PDF and Markdown for the landlord, the care team and (after a
    release by the care team) the judge; read back with pypdf's text extraction."""
    await say("Bram", f"/signaal {case} zorgsignaal {CARE_NOTE}")
    scan = tmp_path / "waarschuwingsbrief.pdf"
    scan.write_bytes(letter_pdf())
    lines = await say("Lotte", f"/bijlage {case} letter:1 < {scan}")
    assert whole(bot.to("Lotte", lines), lambda t: "letter:1" in t and "versleuteld" in t), lines

    def pdf(name: str, words: str) -> str:
        return pdf_text(written(bot.to(name, exported[(name, words)])))

    exported: dict[tuple[str, str], list[str]] = {}
    for name, words in (("Lotte", "verhuurder pdf"), ("Lotte", "verhuurder md"),
                        ("Bram", "zorg pdf"), ("Bram", "zorg md")):
        exported[(name, words)] = await say(name, f"/overlastdossier {case} {words}")
    landlord_pdf, care_pdf = pdf("Lotte", "verhuurder pdf"), pdf("Bram", "zorg pdf")
    landlord_md = written(bot.to("Lotte", exported[("Lotte", "verhuurder md")])).read_text()
    care_md = written(bot.to("Bram", exported[("Bram", "zorg md")])).read_text()
    landlord_copies = {"landlord pdf": landlord_pdf, "landlord md": landlord_md}
    care_copies = {"care pdf": care_pdf, "care md": care_md}

    for label, text in {**landlord_copies, **care_copies}.items():
        assert f"Overlastdossier zaak {case}" in text, label
        # each complaint its own entry, with its own date
        for number, description in enumerate(COMPLAINTS, start=1):
            assert f"complaint:{number}" in text, (label, number)
            assert description in text, (label, description)
        for number in range(1, 5):
            assert f"letter:{number}" in text, (label, number)  # the four letters
            assert f"assessment:{number}" in text, (label, number)
        assert "waarschuwingsbrief.pdf" in text, label  # the attachment, listed with B1
        assert "Jansen" not in text, label  # the complainant's identity is not in the file
    for text in (landlord_md, care_md):
        assert len(COMPLAINT_HEADING.findall(text)) == 4, text
    # the assessment, handling and letters' notes: where the policy lets the landlord read them
    landlord_sees = DEFAULT.sees(Role.LANDLORD, Info.ASSESSMENT) is Visibility.SHOWN
    for label, text in landlord_copies.items():
        assert ("Wist niet dat het" in text) is landlord_sees, label
        assert ("Ik spreek de deelnemer morgen" in text) is landlord_sees, label
    for label, text in care_copies.items():
        assert "Wist niet dat het" in text, label
        assert "Ik spreek de deelnemer morgen" in text, label

    # the care class: in the care file, not in the landlord's copy (not even the signal's
    # kind); a signal's note is not part of the file at all (the timeline holds facts)
    for label, text in care_copies.items():
        for marker in ("opgeschaald", "zorgsignaal"):
            assert marker in text, (label, marker)
        assert "SLEEPMARKER" not in text, label
    for label, text in landlord_copies.items():
        for marker in ("SLEEPMARKER", "opgeschaald", "zorgsignaal"):
            assert marker not in text, (label, marker)
        # a care entry is left out of the landlord's copy, or at most named (redacted)
        listed = DEFAULT.sees(Role.LANDLORD, Info.CARE) is not Visibility.HIDDEN
        assert ("intervention:1" in text) is listed, label

    # the judge's copy: the landlord's, plus the intervention the care team released
    lines = await say("Bram", f"/vrijgevenrechter {case} intervention:1")
    assert whole(bot.to("Bram", lines), lambda t: "vrijgegeven" in t), lines
    judge_pdf = pdf_text(written(bot.to("Lotte", await say(
        "Lotte", f"/overlastdossier {case} rechter pdf"))))
    judge_md = written(bot.to("Lotte", await say(
        "Lotte", f"/overlastdossier {case} rechter md"))).read_text()
    for label, text in (("judge pdf", judge_pdf), ("judge md", judge_md)):
        assert "opgeschaald" in text, label
        assert "SLEEPMARKER" not in text, label
        assert "zorgsignaal" not in text, label
        assert DESCRIPTION in text, label
        assert "letter:4" in text, label
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        copies = (await uow.session.execute(select(orm.DossierExport.copy).order_by(
            orm.DossierExport.id))).scalars().all()
    assert copies == ["verhuurder"] * 2 + ["zorg"] * 2 + ["rechter"] * 2


async def test_the_intake_as_a_conversation_keeps_an_anonymous_complainant_unknown(
        bot: ConsoleHarness) -> None:
    case = await setting(bot)
    await bot.type("/als Lotte")
    lines = await bot.type("/klacht")
    assert whole(bot.to("Lotte", lines), lambda line: "waar gaat de overlast over" in line), lines
    await bot.type("1")  # noise
    lines = await bot.type("morgen")
    assert whole(bot.to("Lotte", lines), lambda line: "geen moment" in line), lines
    await bot.type("gisteren 22:30")
    await bot.type("vandaag 08:00")
    await bot.type("1")  # anonymous
    lines = await bot.type("Bonken op de muur")
    assert whole(bot.to("Lotte", lines), lambda line: "begeleider (Bram)" in line), lines
    lines = await bot.type("1")  # forward
    assert whole(bot.to("Lotte", lines), lambda line: "Klacht K1" in line), lines
    assert whole(bot.to("Bram", lines), lambda line: "anoniem" in line and "Bonken" in line)
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        row = (await uow.session.execute(select(orm.ComplaintRow))).scalar_one()
        assert row.complainant is None
    state = await windows(bot)
    assert state["N2"] == ["met"]
    assert state["N3"] == ["open"]
    assert case


async def test_a_late_intake_says_n2_lapsed_and_the_contact_reminder_comes(
        bot: ConsoleHarness) -> None:
    case = await setting(bot)
    await bot.type("/als Lotte")
    bot.clock.advance(timedelta(days=3))
    lines = await bot.type(f"/klacht {case} geluid | 20-11 22:00 | 20-11 23:00 | anoniem | "
                           "Lawaai")
    assert whole(bot.to("Lotte", lines), lambda line: "later dan 24 uur" in line), lines
    await bot.type("/als Bram")
    await bot.type("/aanpak K1 Gesprek met de deelnemer")
    bot.new_output()
    # the landlord is reminded at the configured interval to let the complainant know
    lines = await bot.advance(timedelta(weeks=2, minutes=1))
    assert whole(bot.to("Lotte", lines), lambda line: "klager laten merken" in line), lines
    assert not whole(lines, lambda line: "Escalatie" in line), lines


async def test_n5_lapses_when_not_all_partners_answer_and_the_intake_survives_a_restart(
        bot: ConsoleHarness) -> None:
    case = await setting(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/klacht {case}")
    await bot.type("2")  # smell
    await bot.restart()  # the conversation is in the database, not in memory
    await bot.type("/als Lotte")
    await bot.type("gisteren 21:00")
    await bot.type("nu")
    await bot.type("2")  # known to the landlord
    await bot.type("de buurman")
    await bot.type("Stank in het trappenhuis")
    lines = await bot.type("1")
    assert whole(bot.to("Lotte", lines), lambda text: "Klacht K1" in text), lines
    await bot.type("/als Bram")
    await bot.type("/aanpak K1 Gesprek")
    await bot.type("/navraag K1")
    await bot.type("/als Pieter")
    await bot.type("/antwoord K1 geen")
    # the landlord and the municipality never answer: N5 lapses by itself at four weeks
    await bot.advance(timedelta(weeks=4, hours=1))
    assert (await windows(bot))["N5"] == ["lapsed"]
    await bot.type("/als Gea")
    lines = await bot.type("/antwoord K1 nieuw")  # a late answer still comes into the case
    assert whole(bot.to("Bram", lines), lambda text: "Nieuwe meldingen" in text), lines
    assert (await windows(bot))["N5"] == ["lapsed"]
    lines = await bot.type("/antwoord K1 geen")
    assert whole(bot.to("Gea", lines), lambda text: "niets gevraagd" in text), lines


async def test_the_contact_reminder_is_re_armed_while_a_complaint_is_open(
        bot: ConsoleHarness) -> None:
    """N7c lapses when the landlord lets an interval pass without contact: the landlord is
    told, and the next interval starts by itself, again and again, until the nuisance is
    resolved; then the reminders stop."""
    case = await setting(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/klacht {case} geluid | vandaag 07:00 | nu | anoniem | Lawaai")
    await bot.type("/als Bram")
    await bot.type("/aanpak K1 Gesprek met de deelnemer")
    bot.new_output()
    for lapses in (1, 2, 3):
        lines = await bot.advance(timedelta(weeks=2, minutes=1))
        assert whole(bot.to("Lotte", lines), lambda line: "klager laten merken" in line), (
            lapses, lines)
        assert (await windows(bot))["N7c"] == ["lapsed"] * lapses + ["open"]
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        row = (await uow.session.execute(select(orm.ComplaintRow))).scalar_one()
        newest = (await uow.session.execute(
            select(orm.WindowRow).where(orm.WindowRow.norm == "N7c")
            .order_by(orm.WindowRow.id.desc()))).scalars().first()
        assert newest is not None
        assert row.contact_window_id == newest.id  # the complaint follows the new window
    # a contact meets the running interval and starts the next, as before
    await bot.type("/als Lotte")
    await bot.type("/klagercontact K1")
    assert (await windows(bot))["N7c"] == ["lapsed"] * 3 + ["met", "open"]
    # resolved by both sides: no more reminders, and none re-armed
    await bot.type(f"/opgelost {case}")
    await bot.type("/als Bram")
    await bot.type(f"/opgelost {case}")
    bot.new_output()
    lines = await bot.advance(timedelta(weeks=6))
    assert not whole(bot.to("Lotte", lines), lambda line: "klager laten merken" in line), lines
    state = (await windows(bot))["N7c"]
    assert state[-1] == "cancelled", state
    assert "open" not in state, state
    assert len(state) == 5, state


async def test_a_task_with_a_clock_nudges_its_owner_when_due(bot: ConsoleHarness) -> None:
    """The six-week follow-ups of 'unconscious, justified' carry a clock (a window of norm T,
    the deadline machinery): when due, the owner of a task still open is nudged; a task done
    in time stops its clock and nudges nobody."""
    case = await setting(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/klacht {case} geluid | vandaag 07:00 | nu | anoniem | Lawaai")
    await bot.type("/als Bram")
    await bot.type("/aanpak K1 Gesprek met de deelnemer")
    await bot.type("/beoordeling K1 onbewust terecht terecht")
    assert (await windows(bot))["T"] == ["open", "open"]
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        rows = (await uow.session.execute(select(orm.TaskRow).where(
            orm.TaskRow.due_at.is_not(None)).order_by(orm.TaskRow.id))).scalars().all()
    timed = {row.kind: row for row in rows}
    assert set(timed) == {"six_week_ask_landlord", "six_week_ask_complainant"}
    assert all(row.window_id is not None for row in rows)
    # the landlord does hers in time: its clock is met
    await bot.type("/als Lotte")
    lines = await bot.type(f"/taakgedaan {timed['six_week_ask_complainant'].id}")
    assert (await windows(bot))["T"] == ["open", "met"], lines
    bot.new_output()
    await bot.restart()  # the clock is in the database
    lines = await bot.advance(timedelta(weeks=6, minutes=1))
    nudge = "een taak met een termijn"
    assert whole(bot.to("Bram", lines), lambda text: nudge in text), lines
    assert not whole(bot.to("Lotte", lines), lambda text: nudge in text), lines
    assert not any("Escalatie" in line and nudge in line for line in lines), lines
    assert (await windows(bot))["T"] == ["lapsed", "met"]
    # done late, with the /gedaan the nudge offers: the clock is met and the task done
    await bot.type("/als Bram")
    lines = await bot.type(f"/gedaan T{timed['six_week_ask_landlord'].window_id}")
    assert (await windows(bot))["T"] == ["met", "met"], lines
    assert ("six_week_ask_landlord", "coach") not in await open_tasks(bot)
    assert ("feedback_landlord", "coach") in await open_tasks(bot)  # one without a clock
