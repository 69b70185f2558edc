"""The evaluation of the cooperation (N12): the coordinator's report on demand and the yearly
reminder that brings it, read back from the documents that actually left the bot (the console
writes each to its documents folder; the PDF's text with pypdf, the CSV): per norm and per kind
of partner the windows opened, met in time and lapsed with the time to act, the complaints by
their assessment and by the letters that followed them, a chart per norm, and NO case content
at all."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.services.evaluation_report import percentile
from tests.support.harness import ConsoleHarness

NOTE = "NOTITIE8"
COMPLAINANT = "BUURVROUW6"
AGREEMENT = "AFSPRAAK2"
DESCRIPTION = "OMSCHRIJVING5 harde muziek"
HANDLING = "AANPAK4"
ASSESSMENT = "BEOORDELING3"
#: a document the console wrote for its person
WRITTEN = re.compile(r"\(document opgeslagen in (.+)\)")


@pytest.fixture
async def bot(database_url: str, clock: ManualClock, tmp_path: Path
              ) -> AsyncIterator[ConsoleHarness]:
    """The console bot; its documents go to this test's folder, and no copy on the server."""
    harness = ConsoleHarness(database_url, clock,
                             sections={"dossier": {"console_dir": str(tmp_path / "sent")}})
    await harness.start()
    yield harness
    await harness.stop()


async def _history(bot: ConsoleHarness) -> str:
    """A case with a met and a lapsed window, a complaint with its note and complainant, and a
    trajectory's agreement: content enough that a leak would show."""
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} geluid {NOTE} harde muziek klager: {COMPLAINANT}")
    await bot.type("1")
    await bot.type(f"/signaal {case} huurachterstand")
    await bot.type(f"/traject {case} doorbraak")
    await bot.type(f"/afspraak {case} {AGREEMENT} begeleid verhuizen")
    await bot.advance(timedelta(hours=30))
    await bot.type("/als Bram")
    await bot.type("/ok 1")  # met in time, after 30 hours
    await bot.advance(timedelta(days=3))  # #2 lapses
    return case


def _documents(lines: list[str]) -> list[Path]:
    return [Path(m.group(1)) for line in lines if (m := WRITTEN.search(line))]


def _read(lines: list[str]) -> tuple[str, list[dict[str, str]], str]:
    """The PDF's text and the CSV of the two documents the coordinator received."""
    sent = _documents(lines)
    assert sorted(p.suffix for p in sent) == [".csv", ".pdf"], lines
    pdf_path = next(p for p in sent if p.suffix == ".pdf")
    csv_path = next(p for p in sent if p.suffix == ".csv")
    assert pdf_path.name.startswith("evaluatierapport-"), pdf_path
    pdf = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    raw = csv_path.read_text(encoding="utf-8")
    return text, list(csv.DictReader(io.StringIO(raw))), raw


async def _documents_waiting(bot: ConsoleHarness) -> int:
    """Documents still in the outbox (each is purged once its message is delivered)."""
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        return int((await uow.session.execute(
            select(func.count()).select_from(orm.OutboxDocument))).scalar_one())


async def test_the_report_on_demand_holds_figures_and_no_case_content(
        bot: ConsoleHarness) -> None:
    case = await _history(bot)
    await bot.type("/als Coordinator")
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport"))
    assert any("komt zo als twee documenten" in line for line in lines), lines
    assert any("N1: 2 geopend, 1 op tijd, 1 verlopen, mediaan 30.0 u" in line
               for line in lines), lines  # the PDF's caption
    text, rows, raw = _read(lines)
    assert "evaluatie van de samenwerking" in text
    assert "Per norm" in text
    assert "Per soort partner" in text
    assert "Pagina 1/" in text
    n1 = next(r for r in rows if r["section"] == "norm" and r["key"] == "N1")
    assert (n1["opened"], n1["met_in_time"], n1["lapsed"], n1["median_hours"]) == (
        "2", "1", "1", "30.0")
    coach = next(r for r in rows if r["section"] == "partner" and r["key"] == "coach")
    assert coach["opened"] == "2"
    # a nuisance signal is no complaint of the procedure: the complaint tables count none
    assessed = {r["key"]: r["count"] for r in rows if r["section"] == "complaints_assessment"}
    assert assessed == dict.fromkeys(
        ("conscious_disputed", "conscious_justified", "not_assessed",
         "unconscious_justified", "unjustified"), "0")
    ladder = {r["key"]: r["count"] for r in rows if r["section"] == "complaints_ladder"}
    assert ladder == dict.fromkeys(
        ("action_3", "action_4", "action_5", "action_6", "none"), "0")
    # no case content: no case code, no name, no free text, in either document
    for leak in (case, "Lotte", "Bram", NOTE, COMPLAINANT, AGREEMENT, "harde muziek"):
        assert leak not in text, leak
        assert leak not in raw, leak
    # the documents left the outbox: nothing of them is kept; no copy on the server
    assert await _documents_waiting(bot) == 0
    # a year that is no year is refused with what is accepted
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport 12345"))
    assert any("Geef een jaar" in line for line in lines), lines
    assert _documents(lines) == []
    # only the coordinator asks for it
    await bot.type("/als Bram")
    lines = await bot.type("/evaluatierapport")
    assert _documents(lines) == [], lines
    assert await _documents_waiting(bot) == 0


async def test_the_yearly_reminder_comes_once_a_year_with_the_report(
        bot: ConsoleHarness) -> None:
    case = await _history(bot)
    assert bot.app is not None
    assert await bot.app.yearly.run() == 0  # not a year yet since the first case
    await bot.advance(timedelta(days=366))
    assert await bot.app.yearly.run() == 1
    lines = bot.to("Coordinator", await bot.advance(timedelta(minutes=1)))
    assert any("jaarlijkse evaluatie van de samenwerking" in line for line in lines), lines
    text, rows, raw = _read(lines)
    assert any(r["key"] == "N1" and r["opened"] == "2" for r in rows)
    assert "Per norm" in text
    for leak in (case, "Lotte", "Bram", NOTE, COMPLAINANT, AGREEMENT, "harde muziek"):
        assert leak not in text, leak
        assert leak not in raw, leak
    assert await _documents_waiting(bot) == 0
    # the same day, and after a restart, it does not come again; a year later it does
    assert await bot.app.yearly.run() == 0
    await bot.restart()
    assert await bot.app.yearly.run() == 0
    await bot.advance(timedelta(days=366))
    assert await bot.app.yearly.run() == 1


async def test_the_complaints_are_counted_by_assessment_and_by_the_letters_that_followed(
        bot: ConsoleHarness, tmp_path: Path) -> None:
    """Five complaints: one in each cell of action 2's table and one not assessed; a warning
    letter follows the second, the second warning and the summons the third. The report's
    PDF and CSV show those counts, and nothing of the complaints' content."""
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")

    async def complaint(number: int, kind: str, assessment: str | None) -> None:
        await bot.type("/als Lotte")
        said = await bot.type(f"/klacht {case} {kind} | nu | nu | klager: {COMPLAINANT} | "
                              f"{DESCRIPTION}")
        assert any(f"K{number}" in line for line in said), said
        if assessment is not None:
            await bot.type("/als Bram")
            await bot.type(f"/aanpak K{number} {HANDLING}")
            said = await bot.type(f"/beoordeling K{number} {assessment} {ASSESSMENT}")
            assert not any("Geef" in line for line in said), said

    async def letter(line: str) -> None:
        await bot.type("/als Lotte")
        said = bot.to("Lotte", await bot.type(f"/brief {case} {line}"))
        assert any("B" in s and "actie" in s for s in said), said

    await complaint(1, "geluid", "onbewust terecht terecht")
    await bot.advance(timedelta(days=1))
    await complaint(2, "geluid", "bewust terecht terecht")
    await letter("3 vandaag")
    await bot.advance(timedelta(days=1))
    await complaint(3, "stank", "bewust onterecht terecht")
    await letter("4 vandaag kopieen juridisch overleg:politie")
    await letter("5 vandaag aangetekend voorgezien juridisch kopieen advies_politie "
                 "advies_bereikbaar")
    await bot.advance(timedelta(days=1))
    await complaint(4, "bezoek", "onbewust onterecht onterecht")
    await complaint(5, "geluid", None)
    await bot.advance(timedelta(minutes=1))  # the period ends (exclusive) when it is made

    await bot.type("/als Coordinator")
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport"))
    text, rows, raw = _read(lines)
    assessed = {r["key"]: r["count"] for r in rows if r["section"] == "complaints_assessment"}
    assert assessed == {"conscious_justified": "1", "conscious_disputed": "1",
                        "unconscious_justified": "1", "unjustified": "1",
                        "not_assessed": "1"}
    ladder = {r["key"]: r["count"] for r in rows if r["section"] == "complaints_ladder"}
    assert ladder == {"none": "3", "action_3": "1", "action_4": "0", "action_5": "1",
                      "action_6": "0"}
    # the PDF's tables: each outcome and step with its count, on one line
    flat = re.sub(r"[ \t]+", " ", text)
    for label, count in (
            ("bewust gedrag; terecht volgens de deelnemer en de begeleider", 1),
            ("bewust gedrag; onterecht volgens de deelnemer, terecht volgens de begeleider",
             1),
            ("onbewust gedrag; terecht volgens de begeleider", 1),
            ("onterecht volgens de begeleider", 1), ("nog niet beoordeeld", 1),
            ("geen brief", 3), ("actie 3: waarschuwingsbrief", 1),
            ("actie 4: tweede waarschuwingsbrief", 0), ("actie 5: sommatiebrief", 1),
            ("actie 6: verzoek aan de rechter", 0)):
        assert re.search(rf"(?m)^{re.escape(label)} ?{count}$", flat), (label, flat)
    for leak in (case, "Lotte", "Bram", COMPLAINANT, DESCRIPTION, HANDLING, ASSESSMENT):
        assert leak not in text, leak
        assert leak not in raw, leak
    # a year before the complaints counts none of them
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport 2025"))
    _, rows, _ = _read(lines)
    assert all(r["count"] == "0" for r in rows if r["section"].startswith("complaints"))


async def test_the_report_is_also_copied_to_the_directory_when_one_is_set(
        database_url: str, clock: ManualClock, tmp_path: Path) -> None:
    harness = ConsoleHarness(database_url, clock, sections={
        "dossier": {"console_dir": str(tmp_path / "sent")},
        "reports": {"directory": str(tmp_path / "copies")}})
    await harness.start()
    try:
        await _history(harness)
        await harness.type("/als Coordinator")
        lines = harness.to("Coordinator", await harness.type("/evaluatierapport"))
        sent = {p.suffix: p.read_bytes() for p in _documents(lines)}
        copies = {p.suffix: p.read_bytes() for p in (tmp_path / "copies").iterdir()}
        assert copies.keys() == sent.keys() == {".pdf", ".csv"}
        assert copies[".csv"] == sent[".csv"]
        assert copies[".pdf"].startswith(b"%PDF")
    finally:
        await harness.stop()


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 11))), 90) == pytest.approx(9.1)
