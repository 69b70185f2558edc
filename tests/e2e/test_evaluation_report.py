"""The evaluation of the cooperation (N12): the coordinator's report on demand and the yearly
reminder that brings it, read back as the coordinator would (the PDF's text with pypdf, the
CSV): per norm and per kind of partner the windows opened, met in time and lapsed with the
time to act, the complaints counted, a chart per norm, and NO case content at all."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.domain.clock import ManualClock
from bot.services.evaluation_report import percentile
from tests.support.harness import ConsoleHarness

NOTE = "NOTITIE8"
COMPLAINANT = "BUURVROUW6"
AGREEMENT = "AFSPRAAK2"
FILES = re.compile(r"(\S+\.pdf) (?:en|and) (\S+\.csv)")


@pytest.fixture
async def bot(database_url: str, clock: ManualClock, tmp_path: Path
              ) -> AsyncIterator[ConsoleHarness]:
    harness = ConsoleHarness(database_url, clock,
                             sections={"reports": {"directory": str(tmp_path / "reports")}})
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


def _read(lines: list[str]) -> tuple[str, list[dict[str, str]], str]:
    found = next(m for line in lines if (m := FILES.search(line)))
    pdf = PdfReader(found.group(1))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    raw = Path(found.group(2)).read_text(encoding="utf-8")
    return text, list(csv.DictReader(io.StringIO(raw))), raw


async def test_the_report_on_demand_holds_figures_and_no_case_content(
        bot: ConsoleHarness) -> None:
    case = await _history(bot)
    await bot.type("/als Coordinator")
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport"))
    assert any("N1: 2 geopend, 1 op tijd, 1 verlopen, mediaan 30.0 u" in line
               for line in lines), lines
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
    complaints = next(r for r in rows if r["section"] == "complaints_assessment")
    assert complaints["count"] == "1"  # the noise complaint (the missed rent is none)
    assert any(r["section"] == "complaints_ladder" for r in rows)
    # no case content: no case code, no name, no free text, in either file
    for leak in (case, "Lotte", "Bram", NOTE, COMPLAINANT, AGREEMENT, "harde muziek"):
        assert leak not in text, leak
        assert leak not in raw, leak
    # a year that is no year is refused with what is accepted
    lines = bot.to("Coordinator", await bot.type("/evaluatierapport 12345"))
    assert any("Geef een jaar" in line for line in lines), lines
    # only the coordinator asks for it
    await bot.type("/als Bram")
    lines = bot.to("Bram", await bot.type("/evaluatierapport"))
    assert not any(".pdf" in line for line in lines), lines


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
    assert case not in text
    assert case not in raw
    # the same day, and after a restart, it does not come again; a year later it does
    assert await bot.app.yearly.run() == 0
    await bot.restart()
    assert await bot.app.yearly.run() == 0
    await bot.advance(timedelta(days=366))
    assert await bot.app.yearly.run() == 1


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 11))), 90) == pytest.approx(9.1)
