"""Each person reads the bot in their own language only: an English reader gets no Dutch word
(the console's edit marker, the commands behind buttons, an erased person's name) and a Dutch
reader no English one; the buttons' English commands work; and a date carries its year when it
is not this year."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.clock import ManualClock
from tests.support.harness import ConsoleHarness, local
from tests.unit.test_catalogue import DUTCH_WORDS, ENGLISH_WORDS, foreign_words

TEAM = (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Tara", "teamleider"),
        ("Dirk", "deelnemer"))
NAMES = ("Coordinator", *(name for name, _ in TEAM))
NUMBER = re.compile(r"#(\d+)")


async def team(bot: ConsoleHarness, lang: str) -> str:
    await bot.type("/als Coordinator")
    await bot.type(f"/taal {lang}")
    case = await bot.new_case()
    for name, role in TEAM:
        await bot.join(name, case, role)
        await bot.type(f"/taal {lang}")
    return case


async def everything(bot: ConsoleHarness, case: str) -> list[str]:
    """A day of the bot's life typed by everyone, buttons pressed by number: what was said."""
    seen: list[str] = []
    await bot.type("/als Lotte")
    seen += await bot.type(f"/signaal {case} huur 3 x 450 EUR")  # a note: no words of either
    seen += await bot.type("1")  # the note preview's first button: send the note
    seen += await bot.type("/signaal")  # choose a case, then a kind, by buttons
    seen += await bot.type("1")
    seen += await bot.type("1")
    await bot.type("/als Dirk")
    seen += await bot.type("/melden")  # the tenant's guided report, by buttons
    seen += await bot.type("1")
    seen += await bot.type("Boem boem boem")
    seen += await bot.type("23:00")
    seen += await bot.type("B2")
    seen += await bot.type("1")
    await bot.type("/als Bram")
    seen += await bot.type("/zaken")
    seen += await bot.type("/ok 1")  # the other readers' notices are edited
    seen += await bot.type("/termijnen")
    seen += await bot.type("/pauzeer T2 X1")  # a reason: its poster sees who reads it
    seen += await bot.type(f"/status {case}")
    seen += await bot.type("/afwezig 3d")  # choose a backup by button
    seen += await bot.advance(timedelta(hours=30))  # reminders, lapses, escalations
    await bot.type("/als Lotte")
    seen += await bot.type("/vergeetmij")
    seen += await bot.type("1")  # confirm by button
    await bot.type("/als Tara")
    seen += await bot.type(f"/status {case}")
    seen += await bot.type(f"/dossier {case}")
    seen += await bot.type(f"/overleg {case}")
    seen += await bot.type("/mijngegevens")
    seen += await bot.type("/help")
    return seen


def leaks(lines: list[str], words: set[str]) -> dict[str, list[str]]:
    return {line: hits for name in NAMES for line in ConsoleHarness.to_all(name, lines)
            if (hits := foreign_words(line.split("] ", 1)[1], words))}


async def test_an_english_reader_gets_no_dutch_word(bot: ConsoleHarness) -> None:
    case = await team(bot, "en")
    seen = await everything(bot, case)
    said = "\n".join(seen)
    # each button's command worked in English (a Dutch command would have leaked anyway)
    assert "(/note 1 send)" in said
    # the report's choices answer its conversation (no command to leak): it was sent
    assert "Your report #" in said
    assert "(/reason T2 send)" in said
    assert "(/forgetme confirm)" in said
    assert "(edited)" in said
    assert "Your data has been erased" in said
    assert "(—)" in said  # the erased landlord, named in no language
    assert not leaks(seen, DUTCH_WORDS)


async def test_a_dutch_reader_gets_no_english_word(bot: ConsoleHarness) -> None:
    case = await team(bot, "nl")
    seen = await everything(bot, case)
    said = "\n".join(seen)
    assert "(/toelichting 1 verstuur)" in said
    assert "Je melding #" in said
    assert "(bewerkt)" in said
    assert "Je gegevens zijn gewist" in said
    assert not leaks(seen, ENGLISH_WORDS)


def test_the_word_lists_catch_the_leaks_that_were_there() -> None:
    """What English readers were shown before the fix."""
    before = ["[Bram] (bewerkt) New signal #1 in case Z-3GM7: missed rent payment",
              "[Bram]   1) Acknowledge  (/ok 1)",
              "[Bram]   1) Yes, forget me  (/vergeetmij bevestig)",
              "[Tara] #1 missed rent payment, from landlord ((verwijderd))"]
    assert len(leaks(before, DUTCH_WORDS)) == 3  # '/ok' is a word of both languages


# --- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_a_date_carries_the_year_when_it_is_not_this_year(database_url: str,
                                                                lang: str) -> None:
    start = local(2026, 12, 5, 9, 0)
    bot = ConsoleHarness(database_url, ManualClock(start - timedelta(hours=1)))
    await bot.start()
    try:
        case = await team(bot, lang)
        bot.clock.set(start)
        await bot.type("/als Bram")
        # four weeks: into next year, so the year is written
        later = "\n".join(bot.to("Bram", await bot.type(f"/termijn {case} N5")))
        assert re.search(r"(za|Sat) 2 (jan|Jan)\.? 2027 09:00", later), later
        # a day: this year, so it is not
        soon = "\n".join(bot.to("Bram", await bot.type(f"/termijn {case} N2")))
        assert re.search(r"(zo|Sun) 6 (dec|Dec)\.? 09:00", soon), soon
        assert "2026" not in soon
        # the scheduler's notices too: the reminder on New Year's Eve names next year's date
        lines = await bot.advance_to(local(2026, 12, 31, 10, 0))
        reminders = [line for line in bot.to("Bram", lines) if "2 jan" in line.lower()]
        assert reminders, lines
        assert all("2027" in line for line in reminders)
    finally:
        await bot.stop()
